#!/usr/bin/env bash
# `make test-e2e`: the API suites (tests/api.rs, tests/sessions.rs) over HTTP.
#   API_URL=https://…  against that deployment; tests that need the service's
#                      database or secret say so and skip.
#   no API_URL         against `cargo lambda watch` on a free port, over the
#                      DynamoDB Local that the environment names (make test's),
#                      or one started here.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if [ -n "${API_URL:-}" ]; then
  unset AWS_ENDPOINT_URL_DYNAMODB USERS_TABLE REVOKED_TOKENS_TABLE JWT_SECRET
  exec cargo test --locked -p api-tests --test api --test sessions
fi

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  use_dynamodb "$(free_port)"
fi
JWT_SECRET=${JWT_SECRET:-$(random_secret)}
export JWT_SECRET BCRYPT_COST=${BCRYPT_COST:-4} ACCESS_TOKEN_TTL_SECONDS=${ACCESS_TOKEN_TTL_SECONDS:-3600}

start_watch 4
cargo test --locked -p api-tests --test api --test sessions
