#!/usr/bin/env bash
# `make invoke FN=<function> EVENT=events/<file>.json [TOKEN=<jwt>]`: one
# invocation of the release bootstrap under the Lambda Runtime Interface
# Emulator, over DynamoDB Local on 127.0.0.1:8000 (started for this call alone
# unless one already listens). TOKEN and REFRESH_TOKEN replace the placeholder
# tokens in the event.
set -euo pipefail
: "${EVENT:?set EVENT to an event file, e.g. events/status-ok.json}"
source "$(dirname "$0")/../lib.sh"

# FN is any function of template.yaml (its BuildProperties' Binary): the
# routed ones, the authorizer that other stacks call, and the mailer.
functions=$(sed -nE 's/^ +Binary: +([a-z0-9-]+) *$/\1/p' template.yaml)
if ! grep -qxF -- "${FN:-}" <<<"$functions"; then
  # shellcheck disable=SC2086 # one line, the names apart
  echo "set FN to a function:" $functions >&2
  exit 2
fi

# INVOKE_BUILD=release (default): the release bootstrap, as deployed;
# INVOKE_BUILD=debug: the debug binary `cargo build` (and make test) leaves.
case ${INVOKE_BUILD:-release} in
  release) cargo lambda build --release --bin "$FN" >&2 ;;
  debug)
    # The passkey functions are a package of their own (docs/passkeys.md).
    package=functions
    [ ! -f "functions-passkeys/src/bin/$FN.rs" ] || package=functions-passkeys
    cargo build --locked -p "$package" --bin "$FN" >&2
    export RIE_BOOTSTRAPS=${CARGO_TARGET_DIR:-target}/debug
    ;;
  *) echo "INVOKE_BUILD is release or debug" >&2; exit 2 ;;
esac
use_dynamodb 8000 2>/dev/null
if [ "$FN" = mailer ]; then
  # The mailer sends through the SES emulator make run uses, and links to
  # make run's account page.
  use_ses 8005 2>/dev/null
  export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:9000}
fi

# One local key set for all invocations, so a token from one call works in the next.
if [ -z "${SIGNING_KEYS:-}" ]; then
  if [ ! -s .tools/invoke-keys.env ]; then
    use_signing_keys
    (umask 077; printf 'SIGNING_KEYS=%q\nREFRESH_TOKEN_SECRET=%q\n' \
      "$SIGNING_KEYS" "$REFRESH_TOKEN_SECRET" > .tools/invoke-keys.env)
  fi
  # shellcheck disable=SC1091 # written just above
  source .tools/invoke-keys.env
fi
export SIGNING_KEYS REFRESH_TOKEN_SECRET BCRYPT_COST=${BCRYPT_COST:-12}
.tools/venv/bin/python scripts/local/rie.py invoke "$FN" "$EVENT" ${TOKEN:+--token "$TOKEN"} \
  ${REFRESH_TOKEN:+--refresh-token "$REFRESH_TOKEN"}
