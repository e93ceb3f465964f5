#!/usr/bin/env bash
# `make invoke FN=<function> EVENT=events/<file>.json [TOKEN=<jwt>]`: one
# invocation of the release bootstrap under the Lambda Runtime Interface
# Emulator, over DynamoDB Local on 127.0.0.1:8000 (started here if needed).
# TOKEN replaces the placeholder token in the event.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FN:?set FN to a function: register, login, status or logout}"
: "${EVENT:?set EVENT to an event file, e.g. events/status-ok.json}"
scripts/tools.sh
endpoint="http://127.0.0.1:8000"
source scripts/local-env.sh

cargo lambda build --release --bin "$FN" >&2

if ! (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null; then
  pid=$(scripts/dynamodb-local.sh 8000 .tools/dynamodb-local.log)
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  echo "invoke: started DynamoDB Local on $endpoint for this call (pid $pid)" >&2
fi
.tools/venv/bin/python scripts/create_tables.py "$endpoint" 2>/dev/null

# One local secret for all invocations, so a token from one call works in the next.
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s .tools/invoke-jwt-secret ] || (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > .tools/invoke-jwt-secret)
  JWT_SECRET=$(cat .tools/invoke-jwt-secret)
fi
export JWT_SECRET BCRYPT_COST=${BCRYPT_COST:-12}
exec .tools/venv/bin/python scripts/rie.py invoke "$FN" "$EVENT" ${TOKEN:+--token "$TOKEN"}
