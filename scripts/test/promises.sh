#!/usr/bin/env bash
# The README's promises, kept: every `make` target that README.md or `make
# help` names, run in a smoke form that takes seconds to a minute and fails on
# any error, and the README's "Try it" tour run against a test stack with its
# answers compared to the printed ones (scripts/test/readme-tour.py). CI runs
# it after `make test` (.ci/run); by hand: scripts/test/promises.sh.
#
# Not here, and why: `make test`, `make test-e2e`, `make test-browser` and
# `make fuzz-api` are `make test`'s own stages; `make build` runs beside it in
# .ci/run; `make deploy` needs an AWS account (its non-AWS part, the template
# it deploys, is checked by `sam validate --lint` in `make test` and by
# tests/routes.rs: every parameter has a default or says it is required);
# `make fmt` rewrites files (`make test` checks formatting). `make run`
# serves until stopped: it is started, called, counted by `make metrics` and
# stopped.
#
# The Lambda emulator's calls (`make invoke`) and `make load` run the debug
# binaries `make test` built (INVOKE_BUILD=debug, LOAD_BUILD=debug), and `make
# bench` a cheap release profile: what is promised is that they work; the
# shipping optimisations are `make bench`'s full run.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

step() { echo "promises: $*" >&2; }
# holds PATTERN COMMAND...: runs the command, then checks that its output has
# a line matching PATTERN. The whole output is read first: `command | grep -q`
# closes the pipe at the first match, and a writer still writing then dies of
# a broken pipe (a CI run failed on `make invoke` so).
holds() {
  local pattern=$1 output
  shift
  output=$("$@") || return 1
  grep -q -- "$pattern" <<<"$output" || { echo "promises: no '$pattern' from $*: $output" >&2; return 1; }
}
scratch=$(mktemp -d)
cleanup_files+=("$scratch")
passed=0

# make help: every target with its line.
step "make help"
help=$(make -s help)
for target in run metrics test invoke bench fuzz load build deploy keys create-admin demote-admin migrate lint screenshots fuzz-api; do
  grep -qE "^  $target " <<<"$help" || { echo "make help does not list $target" >&2; exit 1; }
done
passed=$((passed + 1))

# make keys: create, rotate and list a key set in a file.
step "make keys (create, rotate, list)"
make -s keys ARGS="create --file $scratch/keys.json" >/dev/null
make -s keys ARGS="rotate --file $scratch/keys.json" >/dev/null
listed=$(make -s keys ARGS="list --file $scratch/keys.json")
grep -q current <<<"$listed" && grep -q next <<<"$listed" \
  || { echo "make keys list after a rotation: $listed" >&2; exit 1; }
passed=$((passed + 1))

# A DynamoDB Local on 8000 (make invoke's and make run's) and the SES emulator.
use_dynamodb 8000
use_ses "$(free_port)"
use_signing_keys
export BCRYPT_COST=4

# make create-admin / make demote-admin against it.
step "make create-admin, make demote-admin"
admin_email="promise-$(date +%s%N)@example.com"
printf 'a long enough password\n' | holds '^created admin ' make -s create-admin EMAIL="$admin_email"
holds '^demoted ' make -s demote-admin EMAIL="$admin_email"
passed=$((passed + 1))

# make migrate: a whole run over that table (its items all current), then
# one more that finds nothing to do.
step "make migrate"
holds '^done: .* 0 upgraded' make -s migrate RATE=200 CHECKPOINT="$scratch/migrate.json"
passed=$((passed + 1))

# make invoke: an HTTP event, the authorizer with a login's token and with a
# logged-out one, and a stream event for the mailer.
step "make invoke (HTTP, authorizer, stream)"
export INVOKE_BUILD=debug
invoke() { make -s invoke FN="$1" EVENT="events/$2" ${3:+TOKEN=$3}; }
holds '"statusCode": 401' invoke status status-no-token.json
invoke register register-created.json >/dev/null || true  # the address may exist from an earlier run
token=$(invoke login login-ok.json | python3 -c '
import json, sys
text = sys.stdin.read()
answer = json.loads(text[text.index("{"):])
print(json.loads(answer["body"])["auth_token"])')
holds '"isAuthorized": true' invoke authorizer authorizer-allowed.json "$token"
holds '"statusCode": 200' invoke logout logout-ok.json "$token"
holds '"isAuthorized": false' invoke authorizer authorizer-allowed.json "$token"
holds '"batchItemFailures": \[\]' invoke mailer mailer-outbox-insert.json
passed=$((passed + 1))

# make load: a few hundred calls.
step "make load (300 calls)"
LOAD_REQUESTS=300 LOAD_CONCURRENCY=4 LOAD_INSTANCES=1 LOAD_BUILD=debug make -s load >"$scratch/load.txt"
tail -n 3 "$scratch/load.txt"
passed=$((passed + 1))

# The README's tour, and make screenshots, against one test stack.
start_watch 2
step "the README's Try it tour against $API_URL"
.tools/venv/bin/python scripts/test/readme-tour.py "$API_URL" README.md
passed=$((passed + 1))
step "make screenshots (into a scratch folder)"
make -s screenshots SCREENSHOTS="$scratch/screenshots" PYTEST_ARGS="-k sign_up_shows_the_account" >/dev/null
ls "$scratch/screenshots"/*.png >/dev/null
passed=$((passed + 1))

# make run: it serves the API on :9000 (over the DynamoDB Local on 8000
# above); a failed login there is counted by make metrics.
step "make run, make metrics"
setsid make -s run >"$scratch/run.txt" 2>&1 &
run_group=$!
served=
for _ in $(seq 1 600); do
  served=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9000/auth/status || true)
  [ "$served" = 401 ] && break
  sleep 1
done
[ "$served" = 401 ] || { tail -n 20 "$scratch/run.txt" >&2; kill -- "-$run_group" || true; exit 1; }
curl -s -o /dev/null -H 'content-type: application/json' \
  -d '{"email": "nobody@example.com", "password": "not the password"}' http://127.0.0.1:9000/auth/login
counted=
for _ in $(seq 1 20); do  # the watch's output reaches the log as it comes
  counted=$(make -s metrics)
  grep -q '^LoginFailed  *[1-9]' <<<"$counted" && break
  sleep 0.5
done
grep -q '^LoginFailed  *[1-9]' <<<"$counted" || { echo "make metrics: $counted" >&2; kill -- "-$run_group"; exit 1; }
kill -- "-$run_group" || true
wait "$run_group" || true
passed=$((passed + 1))

# make bench: one section, one function, few runs; its table must print.
step "make bench (cold, status, 2 runs)"
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
  BENCH_SECTIONS=cold BENCH_FUNCTIONS=status BENCH_COLD_RUNS=2 BENCH_WARM_INVOKES=10 BENCH_DATABASE_WARMUP=20 \
  make -s bench >"$scratch/bench.txt"
grep -q '^|' "$scratch/bench.txt" || { cat "$scratch/bench.txt" >&2; exit 1; }
passed=$((passed + 1))

# make lint: clippy, warnings as errors.
step "make lint"
make -s lint
passed=$((passed + 1))

echo "promises: $passed passed, 0 failed"
