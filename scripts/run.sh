#!/usr/bin/env bash
# `make run`: the API on http://127.0.0.1:9000 at API Gateway's paths, over
# DynamoDB Local on 127.0.0.1:8000 (started here unless one already listens).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

use_dynamodb 8000
if [ -z "${JWT_SECRET:-}" ]; then
  JWT_SECRET=$(random_secret)
  secret_origin="generated for this run; tokens die with it"
else
  secret_origin="from the environment"
fi
export JWT_SECRET BCRYPT_COST=${BCRYPT_COST:-12} ACCESS_TOKEN_TTL_SECONDS=${ACCESS_TOKEN_TTL_SECONDS:-3600}
CONCURRENCY=${CONCURRENCY:-4}
env_file=.tools/run.env
write_function_env "$env_file"

cat >&2 <<MSG
run: settings
  JWT_SECRET                ${#JWT_SECRET} bytes, $secret_origin
  BCRYPT_COST               $BCRYPT_COST
  ACCESS_TOKEN_TTL_SECONDS  $ACCESS_TOKEN_TTL_SECONDS
  DynamoDB                  $AWS_ENDPOINT_URL_DYNAMODB (tables $USERS_TABLE, $REVOKED_TOKENS_TABLE)
  instances per function    $CONCURRENCY
run: serving http://127.0.0.1:9000
MSG
routes | while read -r method path function; do
  printf '  %-7s %-22s %s\n' "$method" "$path" "$function" >&2
done
$(watch_command 9000 "$CONCURRENCY" "$env_file")
