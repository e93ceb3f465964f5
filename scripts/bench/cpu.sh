#!/usr/bin/env bash
# `make bench-cpu`: `make bench`'s section 15 alone (scripts/bench/benchlib/cpu.py):
# CPU (utime + stime) and callgrind instructions per status call, the
# instructions split by the ledger's parts. Builds status in the cpu-bench
# profile (release, symbols kept) and a debug register (which makes the user,
# at bcrypt's lowest cost), starts a DynamoDB Local of its own on a free port,
# and prints one table. BENCH_CPU_JSON=FILE also writes the numbers as JSON;
# BENCH_CPU_KEEP=DIR keeps the two callgrind profiles. Loopback only.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v valgrind >/dev/null || { echo "bench-cpu: valgrind is not installed" >&2; exit 1; }

cargo build --locked --profile cpu-bench -p functions --bin status
cargo build --locked -p functions --bin register
built=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
# Copies in this worktree: another worktree's build into a shared target
# directory must not swap a binary mid-run.
mkdir -p target/cpu-bench
cp "$built/cpu-bench/status" target/cpu-bench/status
cp "$built/debug/register" target/cpu-bench/register

use_dynamodb "$(free_port)"
use_signing_keys
# The issuer the events' API Gateway domainName gives, as make bench sets it.
PUBLIC_BASE_URL=https://$(python3 -c 'import json
print(json.load(open("events/status-ok.json"))["requestContext"]["domainName"])')
export PUBLIC_BASE_URL BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=3600
export REGISTER_BOOTSTRAP=target/cpu-bench/register
.tools/venv/bin/python -c '
import os, sys
sys.dont_write_bytecode = True
sys.path[:0] = ["scripts/bench", "scripts/local"]
from benchlib import cpu
cpu.main()'
