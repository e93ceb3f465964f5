#!/usr/bin/env bash
# `make run`: the API on http://127.0.0.1:9000 at API Gateway's paths, over
# DynamoDB Local on 127.0.0.1:8000, with the mails going to the SES emulator on
# 127.0.0.1:8005 (each started here unless one already listens), whose web view
# shows them; the stream pump hands the outbox's new mails to the mailer.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

use_dynamodb 8000
use_ses 8005
use_signing_keys
# Webhooks: to WEBHOOK_URLS (with WEBHOOK_SECRET) when set, else to a local
# receiver whose page shows them as they arrive.
use_webhooks
# Sign-in with another provider: the local `mock` provider unless
# OIDC_PROVIDERS is set (docs/oidc.md).
use_oidc_provider
export PUBLIC_BASE_URL=http://127.0.0.1:9000
# Passkeys are bound to a domain (an IP address is no RP ID): they are
# tested at http://localhost:9000/account (docs/passkeys.md).
export RP_ID=${RP_ID:-localhost} RP_ORIGIN=${RP_ORIGIN:-http://localhost:9000}
# Every request here comes from 127.0.0.1: give the per-address limits the
# room of a whole office (the per-account limits stay as in production).
export SOURCE_LOGIN_FAILURES_BEFORE_DELAY=${SOURCE_LOGIN_FAILURES_BEFORE_DELAY:-100000}
export SOURCE_REGISTRATIONS_PER_HOUR=${SOURCE_REGISTRATIONS_PER_HOUR:-100000}
export SOURCE_MAILS_PER_HOUR=${SOURCE_MAILS_PER_HOUR:-100000}
export BCRYPT_COST=${BCRYPT_COST:-12} ACCESS_TOKEN_TTL_SECONDS=${ACCESS_TOKEN_TTL_SECONDS:-3600}
CONCURRENCY=${CONCURRENCY:-4}
env_file=.tools/run.env
write_function_env "$env_file"

# Outside the message: an apostrophe inside ${…:-…} there is a bad substitution.
cors=${CORS_ALLOW_ORIGINS:-"none (only the API's own origin: the account page)"}
hook=${TOKEN_HOOK_URL:-none}
[ -z "${TOKEN_HOOK_URL:-}" ] || hook="$hook (${TOKEN_HOOK_FAILURE:-deny} after ${TOKEN_HOOK_TIMEOUT_MS:-1000} ms)"
cat >&2 <<MSG
run: settings
  SIGNING_KEYS              $KEYS_ORIGIN:
$(key_ids | sed 's/^/                              /')
  REFRESH_TOKEN_SECRET      ${#REFRESH_TOKEN_SECRET} bytes
  PUBLIC_BASE_URL           $PUBLIC_BASE_URL (the tokens' iss)
  BCRYPT_COST               $BCRYPT_COST
  ACCESS_TOKEN_TTL_SECONDS  $ACCESS_TOKEN_TTL_SECONDS
  DynamoDB                  $AWS_ENDPOINT_URL_DYNAMODB (tables $USERS_TABLE, $REVOKED_TOKENS_TABLE, $OUTBOX_TABLE)
  mails                     from $MAIL_FROM through the SES emulator: see them at $SES_URL/
                            (failed ones: ${MAIL_DEAD_LETTER_FILE:-.tools/mail-dead-letters.jsonl})
  instances per function    $CONCURRENCY
  webhooks                  to $WEBHOOK_URLS, retried after ${WEBHOOK_RETRY_SECONDS} s
                            ${WEBHOOK_RECEIVER_URL:+(see them at $WEBHOOK_RECEIVER_URL/)}
  CORS_ALLOW_ORIGINS        $cors
  TOKEN_HOOK_URL            $hook
  RP_ID, RP_ORIGIN          $RP_ID, $RP_ORIGIN (passkeys: use http://localhost:9000/account)
run: serving http://127.0.0.1:9000
run: the account page at http://127.0.0.1:9000/account; for passkeys: http://localhost:9000/account
MSG
routes | while read -r method path function; do
  printf '  %-7s %-22s %s\n' "$method" "$path" "$function" >&2
done
# With CORS_ALLOW_ORIGINS (e.g. http://localhost:3000 for a web app's dev
# server), the watch moves to a port of its own behind the CORS front.
watch_port=9000
if [ -n "${CORS_ALLOW_ORIGINS:-}" ]; then
  watch_port=$(free_port)
  start_cors_front 9000 "$watch_port"
fi
# The functions' output shown here and kept in .tools/run-functions.log,
# from which `make metrics` counts what the dashboard would show.
# shellcheck disable=SC2046 # watch_command's words are the command line
$(watch_command "$watch_port" "$CONCURRENCY" "$env_file") > >(tee .tools/run-functions.log) 2>&1 &
watch=$!
started_pids+=("$watch")
# Local only: Lambda's event source mapping does this when deployed.
start_pump "http://127.0.0.1:$watch_port/2015-03-31/functions/mailer/invocations"
start_webhook_pumps "http://127.0.0.1:$watch_port/2015-03-31/functions/webhooks/invocations"
# The events as they arrive, beside the functions' output.
[ -z "${WEBHOOK_RECEIVER_LOG:-}" ] || { tail -n 0 -f "$WEBHOOK_RECEIVER_LOG" >&2 & started_pids+=("$!"); }
wait "$watch"
