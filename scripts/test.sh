#!/usr/bin/env bash
# `make test`: the whole suite. Starts its own DynamoDB Local on a free port,
# creates the tables from template.yaml, runs every check, and stops it again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
log=$(mktemp)
pid=$(scripts/dynamodb-local.sh "$port" "$log")
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
echo "test: DynamoDB Local on $endpoint (pid $pid)" >&2

source scripts/local-env.sh
.tools/venv/bin/python scripts/create_tables.py "$endpoint"
# Tests use a fresh random secret and the cheapest bcrypt cost.
JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
export JWT_SECRET BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=3600

cargo fmt --all -- --check
sam validate --lint --template template.yaml --region us-east-1
cargo test --workspace --locked
# Every file in events/ through the Lambda emulator, against release builds.
cargo lambda build --release --locked
.tools/venv/bin/python scripts/rie.py events
