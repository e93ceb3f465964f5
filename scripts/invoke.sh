#!/usr/bin/env bash
# `make invoke FN=<function> EVENT=events/<file>.json [TOKEN=<jwt>]`: one
# invocation of the release bootstrap under the Lambda Runtime Interface
# Emulator, over DynamoDB Local on 127.0.0.1:8000 (started for this call alone
# unless one already listens). TOKEN and REFRESH_TOKEN replace the placeholder
# tokens in the event.
set -euo pipefail
: "${EVENT:?set EVENT to an event file, e.g. events/status-ok.json}"
source "$(dirname "$0")/lib.sh"

# FN is one of the router's functions (Cargo.toml).
functions=$(routes | cut -d' ' -f3)
if ! grep -qxF -- "${FN:-}" <<<"$functions"; then
  # shellcheck disable=SC2086 # one line, the names apart
  echo "set FN to a function:" $functions >&2
  exit 2
fi

cargo lambda build --release --bin "$FN" >&2
use_dynamodb 8000 2>/dev/null

# One local secret for all invocations, so a token from one call works in the next.
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s .tools/invoke-jwt-secret ] || (umask 077; random_secret > .tools/invoke-jwt-secret)
  JWT_SECRET=$(cat .tools/invoke-jwt-secret)
fi
export JWT_SECRET BCRYPT_COST=${BCRYPT_COST:-12}
.tools/venv/bin/python scripts/rie.py invoke "$FN" "$EVENT" ${TOKEN:+--token "$TOKEN"} \
  ${REFRESH_TOKEN:+--refresh-token "$REFRESH_TOKEN"}
