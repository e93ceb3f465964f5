# Sourced by the scripts in local/, test/ and bench/ (as ../lib.sh): starting
# and stopping the local stack. It moves to the project's root: the paths here
# and in the scripts after they source it are from there (scripts/local/…).
# Everything started here is stopped when the sourcing script exits.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup/tools.sh

export PATH="$PWD/.tools/venv/bin:$PATH" SAM_CLI_TELEMETRY=0
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export USERS_TABLE=UsersTable REVOKED_TOKENS_TABLE=RevokedTokensTable OUTBOX_TABLE=OutboxTable

started_pids=()
cleanup_files=()
stop_stack() {
  local pid
  # The SES emulator's PID lives in a file: a test may restart it (use_ses).
  # Only the script that started it stops it: make test's stages share one.
  if [ -n "${ses_started_here:-}" ] && [ -s "${SES_PID_FILE:-}" ]; then
    started_pids+=("$(cat "$SES_PID_FILE")")
  fi
  for pid in "${started_pids[@]}"; do
    # Each was started in a session of its own: stop its whole process group.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  rm -rf "${cleanup_files[@]}"
}
trap stop_stack EXIT
# A signal ends the script through exit, so that the EXIT trap stops the
# stack (bash runs no EXIT trap when an untrapped signal kills it): make
# run's pump and watch go with it on Ctrl-C or a kill.
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

# run_tests CARGO_ARGS...: the Rust tests those cargo arguments select, through
# cargo nextest (settings in .config/nextest.toml: the binaries side by side),
# or cargo test where nextest is not installed.
run_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-tests=pass "$@"
  else
    cargo test --locked "$@"
  fi
}

# use_signing_keys: SIGNING_KEYS (the access tokens' RSA key set) and
# REFRESH_TOKEN_SECRET from the environment, or throwaway ones: a key set made
# by the project's key tool (tools/keys), on one line for env files. Exports
# both, and KEYS_ORIGIN saying which.
# keys_tool ARGS...: tools/keys, as KEYS_BIN names it (make test's, built
# once with the workspace: a `cargo run -p keys` would build the stack again
# with the keys package's features alone), else through cargo run.
keys_tool() {
  if [ -n "${KEYS_BIN:-}" ]; then
    "$KEYS_BIN" "$@"
  else
    cargo run -q --locked -p keys -- "$@"
  fi
}

use_signing_keys() {
  if [ -z "${SIGNING_KEYS:-}" ]; then
    SIGNING_KEYS=$(keys_tool create \
      | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":")))')
    KEYS_ORIGIN="generated for this run; tokens die with them"
  else
    KEYS_ORIGIN="from the environment"
  fi
  REFRESH_TOKEN_SECRET=${REFRESH_TOKEN_SECRET:-$(random_secret)}
  export SIGNING_KEYS REFRESH_TOKEN_SECRET KEYS_ORIGIN
}

# key_ids: the kids and states of SIGNING_KEYS, never a key.
key_ids() {
  printf '%s' "$SIGNING_KEYS" | keys_tool list
}

# use_local NAME SCRIPT PORT: the local NAME on 127.0.0.1:PORT, started by
# scripts/local/SCRIPT PORT LOG (in a session of its own, stopped on exit) unless
# something already listens there.
use_local() {
  local name=$1 script=$2 port=$3
  if port_open "$port"; then
    echo "stack: using the $name already on http://127.0.0.1:$port" >&2
  else
    local log=.tools/${script%.sh}-$port.log
    started_pids+=("$(setsid "scripts/local/$script" "$port" "$log")")
    echo "stack: started the $name on http://127.0.0.1:$port (log $log)" >&2
  fi
}

# use_dynamodb PORT: DynamoDB Local on 127.0.0.1:PORT, started unless one
# already listens there, with the tables of template.yaml.
use_dynamodb() {
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$1"
  use_local "DynamoDB Local" dynamodb-local.sh "$1"
  .tools/venv/bin/python scripts/local/create_tables.py "$AWS_ENDPOINT_URL_DYNAMODB"
}

# use_ses PORT: the Amazon SES v2 emulator (aws-ses-v2-local) on
# 127.0.0.1:PORT, started unless something already listens there. Exports
# AWS_ENDPOINT_URL_SESV2 (the SDK's endpoint for SES v2), SES_URL (its web
# view, and GET /store for tests), MAIL_FROM (the sender, unless set) and, if
# started here, SES_PID_FILE (its PID, which a test that stops and restarts
# it rewrites; stopped on exit) and SES_LOG.
use_ses() {
  local port=$1
  export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$port" SES_URL="http://127.0.0.1:$port"
  export MAIL_FROM=${MAIL_FROM:-no-reply@token-auth.local}
  if port_open "$port"; then
    echo "stack: using the SES emulator already on $SES_URL" >&2
    return
  fi
  SES_LOG=.tools/ses-local-$port.log
  ses_started_here=1
  SES_PID_FILE=$(mktemp)
  cleanup_files+=("$SES_PID_FILE")
  setsid scripts/local/ses-local.sh "$port" "$SES_LOG" >"$SES_PID_FILE"
  export SES_PID_FILE SES_LOG
  echo "stack: started the SES emulator on $SES_URL (mails at $SES_URL/, log $SES_LOG)" >&2
}

# start_until_ready NAME LOG PATTERN COMMAND...: COMMAND in a session of its
# own (stopped on exit), its output in LOG, waited for until LOG has a line
# starting with PATTERN (up to 5 minutes: a pump's first call compiles its
# function).
start_until_ready() {
  local name=$1 log=$2 pattern=$3 pid
  shift 3
  setsid "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  started_pids+=("$pid")
  for _ in $(seq 1 600); do
    grep -q "^$pattern" "$log" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the $name stopped:" >&2; cat "$log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "the $name did not get ready:" >&2; tail -n 20 "$log" >&2; return 1
}

# start_pump INVOKE_URL: the local stream pump (scripts/local/stream-pump.py, for
# local use only) from the outbox table's stream in DynamoDB Local to the
# mailer at INVOKE_URL (cargo lambda watch's invoke endpoint for it), once the
# mailer has answered a first, empty batch (compiling it if need be). Failed
# mails end, after the pump's retries, in MAIL_DEAD_LETTER_FILE (default
# .tools/mail-dead-letters.jsonl). Exports PUMP_LOG.
start_pump() {
  export MAIL_DEAD_LETTER_FILE=${MAIL_DEAD_LETTER_FILE:-$PWD/.tools/mail-dead-letters.jsonl}
  export PUMP_LOG=$PWD/.tools/stream-pump-$$.log
  start_until_ready "stream pump" "$PUMP_LOG" "stream-pump: ready" \
    .tools/venv/bin/python scripts/local/stream-pump.py --invoke-url "$1"
  echo "stack: stream pump from the $OUTBOX_TABLE stream to $1 (log $PUMP_LOG)" >&2
}

# use_webhooks: the webhooks' local parts, started before the functions
# (whose env file carries their settings): a local SQS (moto's server, unless
# AWS_ENDPOINT_URL_SQS names one) with the delivery queue and its dead
# letters, FIFO as in template.yaml; and, unless WEBHOOK_URLS is set, a
# receiver (scripts/local/webhook-receiver.py) that checks each signature
# with the standardwebhooks package, under a throwaway WEBHOOK_SECRET.
# Retries come seconds apart (WEBHOOK_RETRY_SECONDS, default 1,1,2), not
# minutes as deployed. Exports AWS_ENDPOINT_URL_SQS, WEBHOOK_URLS,
# WEBHOOK_SECRET, WEBHOOK_QUEUE_URL, WEBHOOK_DEAD_LETTER_QUEUE_URL,
# WEBHOOK_RETRY_SECONDS, and WEBHOOK_RECEIVER_URL and WEBHOOK_RECEIVER_LOG
# for a receiver started here.
use_webhooks() {
  local port queues
  if [ -z "${AWS_ENDPOINT_URL_SQS:-}" ]; then
    port=$(free_port)
    export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$port"
    # moto's server serves every API it emulates: here, SQS.
    use_local "local SQS (moto)" secrets-manager-local.sh "$port"
  fi
  queues=$(.tools/venv/bin/python - <<'PY'
import json, os, boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"], region_name=os.environ["AWS_REGION"])
fifo = {"FifoQueue": "true"}
dead = sqs.create_queue(QueueName="WebhookDeadLetterQueue.fifo", Attributes=fifo)["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "20"})
queue = sqs.create_queue(QueueName="WebhookQueue.fifo", Attributes=dict(
    fifo, VisibilityTimeout="60", RedrivePolicy=redrive))["QueueUrl"]
print(queue, dead)
PY
)
  read -r WEBHOOK_QUEUE_URL WEBHOOK_DEAD_LETTER_QUEUE_URL <<<"$queues"
  export WEBHOOK_QUEUE_URL WEBHOOK_DEAD_LETTER_QUEUE_URL
  export WEBHOOK_RETRY_SECONDS=${WEBHOOK_RETRY_SECONDS:-1,1,2}
  if [ -z "${WEBHOOK_URLS:-}" ]; then
    WEBHOOK_SECRET=whsec_$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')
    export WEBHOOK_SECRET
    port=$(free_port)
    export WEBHOOK_RECEIVER_LOG=$PWD/.tools/webhook-receiver-$port.log
    start_until_ready "webhook receiver" "$WEBHOOK_RECEIVER_LOG" "webhook-receiver: listening" \
      .tools/venv/bin/python -u scripts/local/webhook-receiver.py --port "$port"
    export WEBHOOK_RECEIVER_URL="http://127.0.0.1:$port" WEBHOOK_URLS="http://127.0.0.1:$port/hooks"
    echo "stack: webhook receiver on $WEBHOOK_RECEIVER_URL (events at $WEBHOOK_RECEIVER_URL/, log $WEBHOOK_RECEIVER_LOG)" >&2
  fi
}

# start_webhook_pumps INVOKE_URL: Lambda's two event source mappings of the
# webhooks function at INVOKE_URL, for local use only: the outbox table's
# stream (scripts/local/stream-pump.py) and the delivery queue
# (scripts/local/queue-pump.py, one message a batch as deployed). Exports
# WEBHOOK_PUMP_LOG and QUEUE_PUMP_LOG.
start_webhook_pumps() {
  export WEBHOOK_PUMP_LOG=$PWD/.tools/webhook-stream-pump-$$.log QUEUE_PUMP_LOG=$PWD/.tools/queue-pump-$$.log
  MAIL_DEAD_LETTER_FILE=$PWD/.tools/webhook-stream-dead-letters.jsonl \
    start_until_ready "webhooks' stream pump" "$WEBHOOK_PUMP_LOG" "stream-pump: ready" \
    .tools/venv/bin/python scripts/local/stream-pump.py --invoke-url "$1"
  start_until_ready "queue pump" "$QUEUE_PUMP_LOG" "queue-pump: ready" \
    .tools/venv/bin/python scripts/local/queue-pump.py --queue-url "$WEBHOOK_QUEUE_URL" \
    --invoke-url "$1" --batch-size 1
  echo "stack: webhooks: the $OUTBOX_TABLE stream and $WEBHOOK_QUEUE_URL to $1 (logs $WEBHOOK_PUMP_LOG, $QUEUE_PUMP_LOG)" >&2
}

# use_oidc_provider: sign-in with another provider, locally (issue 28).
# Unless OIDC_PROVIDERS is set, starts scripts/local/oidc-provider.js (npm's
# oauth2-mock-server, installed by scripts/setup/tools.sh into .tools/oidc) on
# a free port and names it provider `mock`; ALLOWED_REDIRECT_URLS defaults to
# the account page's own URLs (start_watch adds the watch's own `…/account`
# when it chose them). Skipped, saying so, where node or the package is
# missing. Exports OIDC_PROVIDERS, ALLOWED_REDIRECT_URLS, and OIDC_ISSUER and
# OIDC_PROVIDER_LOG for a provider started here.
use_oidc_provider() {
  local port
  if [ -z "${OIDC_PROVIDERS:-}" ]; then
    if ! command -v node >/dev/null || [ ! -e .tools/oidc/node_modules/oauth2-mock-server/package.json ]; then
      echo "stack: no local OpenID Connect provider (node or .tools/oidc missing: run scripts/setup/tools.sh)" >&2
      return 0
    fi
    port=$(free_port)
    export OIDC_PROVIDER_LOG=$PWD/.tools/oidc-provider-$port.log
    start_until_ready "OpenID Connect provider" "$OIDC_PROVIDER_LOG" "oidc-provider: listening" \
      node scripts/local/oidc-provider.js --port "$port"
    export OIDC_ISSUER="http://127.0.0.1:$port"
    export OIDC_PROVIDERS='[{"name":"mock","issuer":"'"$OIDC_ISSUER"'","client_id":"token-auth-local","client_secret":"local-secret","label":"Mock provider"}]'
    echo "stack: OpenID Connect provider \`mock\` on $OIDC_ISSUER (log $OIDC_PROVIDER_LOG)" >&2
  fi
  if [ -z "${ALLOWED_REDIRECT_URLS:-}" ]; then
    export ALLOWED_REDIRECT_URLS="http://localhost:9000/account,http://127.0.0.1:9000/account"
    export OIDC_REDIRECTS_DEFAULTED=1
  fi
}

# env_file_json JSON: the JSON document on one line, such that an env file for
# cargo lambda watch can carry it in single quotes. Its parser (env-file-reader) turns every
# `\n` into a newline, in any quotes, and has no escape for a backslash: the
# PEMs' `\n` escapes would reach the function as raw newlines inside JSON
# strings, which no JSON parser accepts. `\u000a` is the same newline to JSON
# and nothing to the env file. Checked to decode to the same document, and to
# hold no single quote (which would end the value).
env_file_json() {
  printf '%s' "$1" | python3 -c '
import json, sys
text = sys.stdin.read()
out = json.dumps(json.loads(text), separators=(",", ":")).replace("\\n", "\\u000a")
if json.loads(out) != json.loads(text) or "\\n" in out or "\x27" in out:
    sys.exit("env_file_json: this JSON cannot be written to an env file as it is")
print(out)'
}

# write_function_env FILE: the functions' settings, for cargo lambda watch. A
# file (mode 600, removed on exit), not the command line, where `ps` shows it.
# The settings with a default pass only when the environment sets them:
# shared/auth/src/config.rs owns the defaults.
write_function_env() {
  local file=$1 name keys
  keys=$(env_file_json "$SIGNING_KEYS")
  (umask 077; cat >"$file") <<ENV
SIGNING_KEYS='$keys'
REFRESH_TOKEN_SECRET=$REFRESH_TOKEN_SECRET
USERS_TABLE=$USERS_TABLE
REVOKED_TOKENS_TABLE=$REVOKED_TOKENS_TABLE
OUTBOX_TABLE=$OUTBOX_TABLE
AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
AWS_ENDPOINT_URL_SESV2=${AWS_ENDPOINT_URL_SESV2:-}
MAIL_FROM=${MAIL_FROM:-}
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
ENV
  for name in BCRYPT_COST ACCESS_TOKEN_TTL_SECONDS REFRESH_TOKEN_TTL_SECONDS \
    REFRESH_REUSE_GRACE_SECONDS ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY \
    SOURCE_LOGIN_FAILURES_BEFORE_DELAY SOURCE_REGISTRATIONS_PER_HOUR SOURCE_PASSKEY_SIGN_INS_PER_HOUR \
    PUBLIC_BASE_URL \
    TOKEN_AUDIENCE MAILS_PER_EMAIL_PER_HOUR SOURCE_MAILS_PER_HOUR REQUIRE_VERIFIED_EMAIL \
    TOKEN_HOOK_URL TOKEN_HOOK_SECRET TOKEN_HOOK_TIMEOUT_MS TOKEN_HOOK_FAILURE RP_ID RP_ORIGIN \
    OIDC_PROVIDERS ALLOWED_REDIRECT_URLS SOURCE_OAUTH_STARTS_PER_HOUR \
    AWS_ENDPOINT_URL_SQS WEBHOOK_URLS WEBHOOK_SECRET WEBHOOK_QUEUE_URL WEBHOOK_DEAD_LETTER_QUEUE_URL \
    WEBHOOK_RETRY_SECONDS WEBHOOK_TIMEOUT_MS; do
    # Quoted: the env file's parser refuses a bare `+`, `/` or `=` (a
    # whsec_ secret's base64), and has no escape for a quote.
    case "${!name:-}" in
      "") ;;
      *"'"*) echo "write_function_env: $name holds a single quote" >&2; return 1 ;;
      *) echo "$name='${!name}'" >>"$file" ;;
    esac
  done
  cleanup_files+=("$file")
}

# routes: the API's routes, "METHOD PATH FUNCTION" a line, in the order of
# Cargo.toml's router (`cargo lambda watch` serves them), as cargo reads it.
routes() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
router = json.load(sys.stdin)["metadata"]["lambda"]["watch"]["router"]
for path, targets in router.items():
    for target in targets:
        print(target["method"], path, target["function"])'
}

# watch_command PORT CONCURRENCY ENV_FILE [OPTION...]: cargo lambda watch
# serving every function at its API Gateway path (the router in Cargo.toml).
# Its default CORS layer is off: it would reflect any Origin with
# credentials, so any page a developer has open could call the local API and
# the functions' invoke endpoints. The account page is on the API's own origin.
watch_command() {
  echo cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$1" \
    --concurrency "$2" --env-file "$3" "${@:4}"
}

# start_cors_front PORT WATCH_PORT: with CORS_ALLOW_ORIGINS set (origins,
# comma-separated), scripts/local/cors-front.py on PORT in front of the watch
# on WATCH_PORT, answering CORS for those origins as API Gateway does deployed.
# Unset, nothing stands in front: the watch's own CORS layer is off, so only
# pages of the API's own origin (the account page) can read its answers.
start_cors_front() {
  setsid .tools/venv/bin/python scripts/local/cors-front.py "$1" "http://127.0.0.1:$2" \
    "$CORS_ALLOW_ORIGINS" >".tools/cors-front-$1.log" 2>&1 </dev/null &
  started_pids+=("$!")
  echo "stack: CORS for $CORS_ALLOW_ORIGINS on 127.0.0.1:$1, in front of the watch on $2" >&2
}

# start_watch CONCURRENCY: `cargo lambda watch` on a free port, over the
# function settings in the environment (see write_function_env) at log level
# FUNCTION_RUST_LOG (default info). Exports WATCH_LOG, its log, and API_URL
# once GET /auth/status answers (the first request to each function compiles
# it, so this can take a while on a cold target/).
start_watch() {
  local port watch_port env_file log code=
  port=$(free_port)
  # The tokens' issuer is the address they are served on.
  export PUBLIC_BASE_URL="http://127.0.0.1:$port"
  # Passkeys: an IP address is no RP ID; the tests' soft authenticator
  # claims this origin (docs/passkeys.md).
  export RP_ID=localhost RP_ORIGIN="http://localhost:$port"
  # A sign-in with a provider may come back to the watch's own account page.
  if [ "${OIDC_REDIRECTS_DEFAULTED:-}" = 1 ]; then
    ALLOWED_REDIRECT_URLS="$ALLOWED_REDIRECT_URLS,$PUBLIC_BASE_URL/account,http://localhost:$port/account"
  fi
  watch_port=$port
  [ -z "${CORS_ALLOW_ORIGINS:-}" ] || watch_port=$(free_port)
  env_file=$(mktemp)
  write_function_env "$env_file"
  echo "RUST_LOG=${FUNCTION_RUST_LOG:-info}" >>"$env_file"
  log=.tools/watch-$port.log
  export WATCH_LOG=$log
  # --ignore-changes: a test stack never reloads. Left to watch, any file a
  # test run writes in the project (a tool's __pycache__, say) restarts every
  # function, and a request in flight gets the emulator's own 500 (a CI run
  # failed on one).
  # shellcheck disable=SC2046 # watch_command's words are the command line
  setsid $(watch_command "$watch_port" "$1" "$env_file" --ignore-changes) >"$log" 2>&1 </dev/null &
  started_pids+=("$!")
  [ -z "${CORS_ALLOW_ORIGINS:-}" ] || start_cors_front "$port" "$watch_port"
  export API_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/auth/status" || true)
    [ "$code" = 401 ] && break
    sleep 1
  done
  if [ "$code" != 401 ]; then
    echo "cargo lambda watch did not answer on $API_URL:" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
  echo "stack: cargo lambda watch on $API_URL (log $log)" >&2
}

# use_secrets_manager PORT: a local Secrets Manager (moto's server mode) on
# 127.0.0.1:PORT, started unless something already listens there, for the
# deployed path in which the functions read their keys from a secret. The AWS
# SDKs (and tools/keys) reach it through AWS_ENDPOINT_URL_SECRETS_MANAGER.
use_secrets_manager() {
  export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$1"
  use_local "local Secrets Manager (moto)" secrets-manager-local.sh "$1"
}
