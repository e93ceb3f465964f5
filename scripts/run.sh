#!/usr/bin/env bash
# `make run`: the API on http://127.0.0.1:9000 at API Gateway's paths, over
# DynamoDB Local on 127.0.0.1:8000 (started here unless one already listens).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh

endpoint="http://127.0.0.1:8000"
if (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null; then
  echo "run: using the DynamoDB Local already on $endpoint" >&2
else
  pid=$(scripts/dynamodb-local.sh 8000 .tools/dynamodb-local.log)
  echo "run: started DynamoDB Local on $endpoint (pid $pid, log .tools/dynamodb-local.log)" >&2
fi
trap 'rm -f .tools/run.env; [ -z "${pid:-}" ] || kill "$pid" 2>/dev/null || true' EXIT
source scripts/local-env.sh
.tools/venv/bin/python scripts/create_tables.py "$endpoint"

if [ -z "${JWT_SECRET:-}" ]; then
  JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  secret_origin="generated for this run; tokens die with it"
else
  secret_origin="from the environment"
fi
BCRYPT_COST=${BCRYPT_COST:-12}
ACCESS_TOKEN_TTL_SECONDS=${ACCESS_TOKEN_TTL_SECONDS:-3600}
CONCURRENCY=${CONCURRENCY:-4}

# The functions read their settings from this file (not the command line, where
# `ps` would show the secret).
umask 077
env_file=.tools/run.env
cat >"$env_file" <<ENV
JWT_SECRET=$JWT_SECRET
BCRYPT_COST=$BCRYPT_COST
ACCESS_TOKEN_TTL_SECONDS=$ACCESS_TOKEN_TTL_SECONDS
USERS_TABLE=$USERS_TABLE
REVOKED_TOKENS_TABLE=$REVOKED_TOKENS_TABLE
AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
AWS_REGION=$AWS_REGION
AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
ENV

cat >&2 <<MSG
run: settings
  JWT_SECRET                ${#JWT_SECRET} bytes, $secret_origin
  BCRYPT_COST               $BCRYPT_COST
  ACCESS_TOKEN_TTL_SECONDS  $ACCESS_TOKEN_TTL_SECONDS
  DynamoDB                  $endpoint (tables $USERS_TABLE, $REVOKED_TOKENS_TABLE)
  instances per function    $CONCURRENCY
run: serving http://127.0.0.1:9000/auth/{register,login,status,logout}
MSG
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port 9000 \
  --concurrency "$CONCURRENCY" --env-file "$env_file"
