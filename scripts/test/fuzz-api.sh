#!/usr/bin/env bash
# `make fuzz-api`: Schemathesis against openapi.yaml, over `cargo lambda watch`
# on a free port and the DynamoDB Local that the environment names, or one of
# its own (what it starts is stopped at the end).
# Fails on any answer that is a 5xx, has a status code, Content-Type, headers
# or body that openapi.yaml does not document for it. Three passes:
#   1. every operation without a valid token (none, or generated ones);
#   2. the operations behind a token, with a real one (scripts/test/fuzz_hooks.py):
#      a user's, so the admin operations answer 403;
#   3. the admin operations, with the token of an admin made here (tools/admin).
# FUZZ_MAX_EXAMPLES (default 100) bounds the test cases per operation and phase;
# FUZZ_SEED repeats a run; further arguments go to every `st run`.
set -euo pipefail
extra_args=("$@")
source "$(dirname "$0")/../lib.sh"

scripts/setup/schemathesis.sh

# The DynamoDB Local that the environment names (make test's), or one of its own.
if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  use_dynamodb "$(free_port)"
fi
use_signing_keys
export BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=3600
# The fuzzer's many failed logins and wrong current passwords, and its
# registrations and code mails, all from 127.0.0.1, would soon make every login and sign-up
# wait; the limits have tests of their own (tests/throttle.rs), and 429 stays
# in the contract the fuzzer checks.
export ACCOUNT_LOGIN_FAILURES_BEFORE_DELAY=100000 SOURCE_LOGIN_FAILURES_BEFORE_DELAY=100000
export SOURCE_REGISTRATIONS_PER_HOUR=100000
# The same for code mails: the fuzzer sends `forgot` the same few addresses.
export SOURCE_MAILS_PER_HOUR=100000 MAILS_PER_EMAIL_PER_HOUR=100000
start_watch 4

# Each function compiles on its first request: have them all built before the
# fuzzer's clock starts.
routes | while read -r method path _; do
  curl -s -o /dev/null --max-time 600 -X "$method" "$API_URL${path//\{*\}/warm-up}" || true
done

# From scratch directories, one per pass: Schemathesis and Hypothesis keep
# files where they run (an example database each pass writes), and the
# project is no place for them.
root=$PWD scratch=$(mktemp -d)
cleanup_files+=("$scratch")
# Schemathesis filters Authorization headers from what it prints, but not the
# bodies of answers: tokens in them are masked here.
mask_tokens() {
  sed -E -u 's/eyJ[A-Za-z0-9_.-]*/[token]/g; s/("(auth|refresh)_token"[[:space:]]*:[[:space:]]*")[^"]*/\1[token]/g'
}
# st PASS ARGS...: one pass, in its own scratch directory. One worker per
# pass: with two, Hypothesis on Python 3.11 sometimes stops with "AST
# constructor recursion depth mismatch" (CPython's ast is not thread-safe
# there), an error of the tool, not of the API.
st() {
  local pass=$1
  shift
  mkdir -p "$scratch/$pass"
  (cd "$scratch/$pass" && SCHEMATHESIS_HOOKS="$root/scripts/test/fuzz_hooks.py" \
    "$root/.tools/schemathesis/bin/st" run "$root/openapi.yaml" --url "$API_URL" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "${FUZZ_MAX_EXAMPLES:-100}" --seed "${FUZZ_SEED:-$RANDOM}" \
    --workers 1 --request-timeout 30 --no-color "${extra_args[@]}" "$@") 2>&1 | mask_tokens
}

# Pass 3's admin, made as an operator makes one (the API makes none): by the
# admin tool, over the same tables (lib.sh and use_dynamodb export its
# settings, BCRYPT_COST above). Made before the first pass, so that a failure
# stops the run before the long passes, and the tool is built before the
# fuzzer's clock starts. The password goes on stdin, never on a command line,
# which `ps` shows; the hooks get both through the environment. The admin
# cannot end its own account (409), nor guess its id to sign itself out.
admin_email="fuzz-admin-$(python3 -c 'import secrets; print(secrets.token_hex(8))')@example.com"
admin_password=$(random_secret)
# ADMIN_BIN: make test's admin tool, built with the workspace (as KEYS_BIN).
if [ -n "${ADMIN_BIN:-}" ]; then
  printf '%s\n' "$admin_password" | "$ADMIN_BIN" create-admin "$admin_email" >&2
else
  printf '%s\n' "$admin_password" | cargo run -q --locked -p admin --bin admin -- create-admin "$admin_email" >&2
fi

# The passes one after the other: make test runs them beside the browser
# tests, and two passes at once as well loaded the machine's two CPUs enough
# for the browser's requests to wait past the service's timeouts (two CI runs
# had a browser test fail so). Passes 2 and 3 would in any case: the admin's
# calls follow the links of the answers they get (list-users to disable and
# delete) and would shut pass 2's account out mid-run.
failed=0
echo "fuzz-api: pass 1 of 3, every operation without a valid token" >&2
st 1 || failed=1
echo "fuzz-api: pass 2 of 3, the operations behind a token, with a user's" >&2
FUZZ_AUTH=1 st 2 --exclude-operation-id-regex '^(register|login|refresh)$' || failed=1
echo "fuzz-api: pass 3 of 3, the admin operations, with an admin's token" >&2
FUZZ_AUTH=1 FUZZ_ADMIN_EMAIL=$admin_email FUZZ_ADMIN_PASSWORD=$admin_password \
  st 3 --include-path-regex '^/admin/' || failed=1
exit $failed
