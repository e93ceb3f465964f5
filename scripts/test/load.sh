#!/usr/bin/env bash
# `make load`: LOAD_REQUESTS (default 10000) GET /auth/status calls with a valid
# bearer token, LOAD_CONCURRENCY (default 32) connections at a time, with wrk
# and scripts/test/load.lua, against the local stack: DynamoDB Local (one of its own
# on a free port, or the one AWS_ENDPOINT_URL_DYNAMODB names) and cargo lambda
# watch's router on a free port, on loopback only.
#   LOAD_BUILD=release (default)  release bootstraps (cargo lambda build
#                                 --release), LOAD_INSTANCES of status and one
#                                 of register behind `cargo lambda watch
#                                 --only-lambda-apis`, as make bench does
#   LOAD_BUILD=debug              plain `cargo lambda watch`, as make test-e2e:
#                                 debug builds, LOAD_INSTANCES per function
# Prints requests, errors, throughput and p50/p99 latency; fails on any answer
# other than 200, any socket error, or fewer answers than LOAD_REQUESTS.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

LOAD_REQUESTS=${LOAD_REQUESTS:-10000}
LOAD_CONCURRENCY=${LOAD_CONCURRENCY:-32}
LOAD_INSTANCES=${LOAD_INSTANCES:-4}
LOAD_BUILD=${LOAD_BUILD:-release}
# wrk stops when every thread has its share; this only bounds a stuck run.
LOAD_MAX_SECONDS=${LOAD_MAX_SECONDS:-600}
LOAD_THREADS=$((LOAD_CONCURRENCY < 2 ? LOAD_CONCURRENCY : 2))

# wrk, the HTTP load tool, from the distribution's archive.
if ! command -v wrk >/dev/null; then
  echo "load: installing wrk (Debian package)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  use_dynamodb "$(free_port)"
fi
# A throwaway key; the cheapest bcrypt cost, since only status is measured.
use_signing_keys
export BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=3600

port=$(free_port)
log=.tools/load-watch-$port.log
case $LOAD_BUILD in
  release)
    cargo lambda build --release --locked -p functions --bin status --bin register
    setsid cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$port" \
      >"$log" 2>&1 </dev/null &
    started_pids+=("$!")
    # A bootstrap whose first poll finds no runtime API exits: wait for the port.
    for _ in $(seq 1 300); do port_open "$port" && break; sleep 0.1; done
    port_open "$port" || { echo "load: cargo lambda watch did not open $port:" >&2; tail -n 30 "$log" >&2; exit 1; }
    functions=(register)
    for _ in $(seq 1 "$LOAD_INSTANCES"); do functions+=(status); done
    for function in "${functions[@]}"; do
      # The settings reach the bootstraps through the environment (as in Lambda), not `ps`.
      AWS_LAMBDA_FUNCTION_NAME=$function AWS_LAMBDA_FUNCTION_VERSION=1 \
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
        AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt/$function" \
        setsid "target/lambda/$function/bootstrap" >>"$log" 2>&1 </dev/null &
      started_pids+=("$!")
    done
    ;;
  debug)
    env_file=$(mktemp)
    write_function_env "$env_file"
    setsid $(watch_command "$port" "$LOAD_INSTANCES" "$env_file" --ignore-changes) >"$log" 2>&1 </dev/null &
    started_pids+=("$!")
    ;;
  *) echo "load: LOAD_BUILD must be release or debug, not $LOAD_BUILD" >&2; exit 2 ;;
esac

api="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$api/auth/status" || true)
  [ "$code" = 401 ] && break
  sleep 1
done
[ "$code" = 401 ] || { echo "load: $api/auth/status did not answer:" >&2; tail -n 30 "$log" >&2; exit 1; }

# One user, made up here; its access token goes to wrk through the environment only.
body=$(mktemp)
cleanup_files+=("$body")
code=$(python3 -c 'import json, secrets, uuid
print(json.dumps({"email": f"load-{uuid.uuid4().hex}@example.com", "password": secrets.token_urlsafe(24)}))' \
       | curl -s -o "$body" -w '%{http_code}' -X POST "$api/auth/register" \
           -H 'Content-Type: application/json' --data-binary @-)
[ "$code" = 201 ] || { echo "load: register answered $code" >&2; exit 1; }
LOAD_TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["auth_token"])' "$body")
code=$(curl -s -o /dev/null -w '%{http_code}' -H @- "$api/auth/status" <<<"Authorization: Bearer $LOAD_TOKEN")
[ "$code" = 200 ] || { echo "load: status with the new token answered $code" >&2; exit 1; }

echo "load: $LOAD_REQUESTS x GET /auth/status, $LOAD_CONCURRENCY connections ($LOAD_THREADS wrk threads)," \
  "$LOAD_INSTANCES status instances ($LOAD_BUILD build), router $api (log $log)" >&2
# Each wrk thread stops after its share and says so in done_file; wrk itself
# waits for -d unless interrupted, so it gets SIGINT once all have said so.
done_file=$(mktemp) wrk_output=$(mktemp)
cleanup_files+=("$done_file" "$wrk_output")
LOAD_TOKEN=$LOAD_TOKEN LOAD_REQUESTS=$LOAD_REQUESTS LOAD_THREADS=$LOAD_THREADS LOAD_DONE_FILE=$done_file \
  wrk -t "$LOAD_THREADS" -c "$LOAD_CONCURRENCY" -d "${LOAD_MAX_SECONDS}s" --timeout 10s \
    -s scripts/test/load.lua "$api/auth/status" >"$wrk_output" &
wrk_pid=$!
while kill -0 "$wrk_pid" 2>/dev/null; do
  if [ "$(wc -l <"$done_file")" -ge "$LOAD_THREADS" ]; then
    kill -INT "$wrk_pid"
    break
  fi
  sleep 0.2
done
wait "$wrk_pid" || { echo "load: wrk failed:" >&2; cat "$wrk_output" >&2; exit 1; }
output=$(cat "$wrk_output")
echo "$output"

result=$(grep '^load-result ' <<<"$output") || { echo "load: no result from wrk" >&2; exit 1; }
value() { sed -E "s/.* $1=([0-9.]+).*/\1/" <<<"$result"; }
requests=$(value requests) non200=$(value non200) socket_errors=$(value socket_errors)
cat <<SUMMARY
load: requests    $requests
load: errors      $non200 not 200, $socket_errors socket errors
load: throughput  $(value rps) requests/s over $(value seconds) s
load: latency     p50 $(value p50_ms) ms, p99 $(value p99_ms) ms, max $(value max_ms) ms
SUMMARY
failed=0
[ "$non200" = 0 ] || { echo "load: FAIL: $non200 answers were not 200" >&2; failed=1; }
[ "$socket_errors" = 0 ] || { echo "load: FAIL: $socket_errors socket errors" >&2; failed=1; }
[ "$requests" -ge "$LOAD_REQUESTS" ] || { echo "load: FAIL: $requests answers, fewer than $LOAD_REQUESTS" >&2; failed=1; }
[ "$failed" = 0 ] && echo "load: ok"
exit "$failed"
