#!/usr/bin/env bash
# `make create-admin EMAIL=…` / `make demote-admin EMAIL=…` (tools/admin's
# `admin`) and `make migrate` (its `migrate`) on the users table. With USERS_TABLE unset, that of `make run`'s DynamoDB Local
# (127.0.0.1:8000, or AWS_ENDPOINT_URL_DYNAMODB); with it set, the table it
# names, with the AWS configuration of the environment as it is (a deployed
# stack's table: the stack's UsersTable output). The password comes from a
# prompt or stdin, never from here.
set -euo pipefail
if [ -z "${USERS_TABLE:-}" ]; then
  source "$(dirname "$0")/../lib.sh"
  export AWS_ENDPOINT_URL_DYNAMODB=${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:8000}
fi
# The dev profile, as `make keys`: the release profile's fat LTO takes
# minutes to link a tool that runs in a second either way.
tool=admin
if [ "${1:-}" = migrate ]; then tool=migrate; shift; fi
exec cargo run -q --locked --profile dev -p admin --bin "$tool" -- "$@"
