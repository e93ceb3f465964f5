#!/usr/bin/env bash
# `make test-e2e`: the API suites over HTTP: the tests/ files marked HTTP in
# the map in tests/support/src/lib.rs (E2E_TESTS below).
#   API_URL=https://…  against that deployment; tests that need the service's
#                      database or secret say so and skip.
#   no API_URL         against `cargo lambda watch` on a free port, over the
#                      DynamoDB Local that the environment names (make test's),
#                      or one started here. Then the functions' log must hold
#                      none of the run's passwords, tokens, refresh-token
#                      secret or signing keys, at
#                      log level FUNCTION_RUST_LOG (default trace, the most verbose).
#                      The mails go through the mail stack (the SES emulator
#                      the environment names, or one started here; the stream
#                      pump to the mailer): the codes of every mail sent must
#                      be absent from the log too. Then tests/mail.rs, alone:
#                      it stops and restarts the SES emulator.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# The test binaries that run over HTTP too; the others need the in-process app
# (faults, outage, round_trips) or no app at all (routes).
E2E_TESTS=(register login status logout refresh sessions password recovery email_change admin throttle hostile_tokens hostile_bodies keys second_factor verify passkeys webhooks oidc)
# E2E_ONLY="webhooks logout" runs those alone.
[ -z "${E2E_ONLY:-}" ] || read -r -a E2E_TESTS <<<"$E2E_ONLY"
e2e_args=()
for test in "${E2E_TESTS[@]}"; do e2e_args+=(--test "$test"); done

if [ -n "${API_URL:-}" ]; then
  unset AWS_ENDPOINT_URL_DYNAMODB USERS_TABLE REVOKED_TOKENS_TABLE SIGNING_KEYS REFRESH_TOKEN_SECRET
  unset SES_URL AWS_ENDPOINT_URL_SESV2
  run_tests -p api-tests "${e2e_args[@]}"
  exit
fi

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  use_dynamodb "$(free_port)"
fi
if [ -z "${AWS_ENDPOINT_URL_SESV2:-}" ] || [ -z "${SES_PID_FILE:-}" ]; then
  use_ses "$(free_port)"
fi
use_signing_keys
# Webhooks to a receiver of the run's own, through a local SQS.
use_webhooks
# Sign-in with another provider: the local `mock` provider unless
# OIDC_PROVIDERS is set (docs/oidc.md).
use_oidc_provider
export BCRYPT_COST=${BCRYPT_COST:-4} ACCESS_TOKEN_TTL_SECONDS=${ACCESS_TOKEN_TTL_SECONDS:-3600}
# Through cargo lambda watch every request comes from 127.0.0.1, so the whole
# suite's failed logins, and its hundreds of registrations, would share one
# address's counters; the limits per address are tested in-process
# (tests/throttle.rs), where each test picks its address.
export SOURCE_LOGIN_FAILURES_BEFORE_DELAY=${SOURCE_LOGIN_FAILURES_BEFORE_DELAY:-100000}
export SOURCE_REGISTRATIONS_PER_HOUR=${SOURCE_REGISTRATIONS_PER_HOUR:-100000}
export SOURCE_MAILS_PER_HOUR=${SOURCE_MAILS_PER_HOUR:-100000}

# Every secret the run uses, for the log check at the end: the tests add the
# passwords they send and the tokens they see (tests/support/src/secrets.rs).
secrets=$(mktemp)
cleanup_files+=("$secrets")
printf 'refresh_token_secret\t%s\n' "$REFRESH_TOKEN_SECRET" >>"$secrets"
printf 'webhook_secret\t%s\n' "${WEBHOOK_SECRET#whsec_}" >>"$secrets"
# Each signing key's PEM body: the base64 lines of every private key.
printf '%s' "$SIGNING_KEYS" | python3 -c '
import json, sys
for key in json.load(sys.stdin)["keys"]:
    body = "".join(key["private_key_pem"].splitlines()[1:-1])
    print("signing_key\t" + body[:64])' >>"$secrets"
export SECRETS_SEEN_FILE=$secrets
FUNCTION_RUST_LOG=${FUNCTION_RUST_LOG:-trace} start_watch 4
# The pump's retries short, so that tests/mail.rs's failing mail reaches the
# dead letters in seconds (the template: 5 retries).
dead_letters=$(mktemp)
cleanup_files+=("$dead_letters")
MAIL_DEAD_LETTER_FILE=$dead_letters PUMP_MAX_RETRIES=${PUMP_MAX_RETRIES:-4} \
  PUMP_BACKOFF_SECONDS=${PUMP_BACKOFF_SECONDS:-0.25} \
  start_pump "$API_URL/2015-03-31/functions/mailer/invocations"
start_webhook_pumps "$API_URL/2015-03-31/functions/webhooks/invocations"
run_tests -p api-tests "${e2e_args[@]}"
# The codes of the mails sent so far, before tests/mail.rs restarts the
# emulator (which keeps them in memory).
.tools/venv/bin/python scripts/test/no-secrets-in-log.py --record-mail-codes "$SES_URL" "$secrets"
MAIL_DEAD_LETTER_FILE=$dead_letters cargo test --locked -p api-tests --test mail
.tools/venv/bin/python scripts/test/no-secrets-in-log.py --record-mail-codes "$SES_URL" "$secrets"
.tools/venv/bin/python scripts/test/no-secrets-in-log.py "$secrets" "$WATCH_LOG" "$PUMP_LOG" \
  "$WEBHOOK_PUMP_LOG" "$QUEUE_PUMP_LOG" "$WEBHOOK_RECEIVER_LOG"
