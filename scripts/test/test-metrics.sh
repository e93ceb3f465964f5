#!/usr/bin/env bash
# The service's metrics add up (tests/metrics/scenario.py): a scenario over
# HTTP against a stack of its own, a DynamoDB Local and a cargo lambda watch
# that nothing else calls, so the embedded-metric lines in the watch's log
# are the scenario's alone; the DynamoDB Local is stopped midway for a 503.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# Its own DynamoDB Local (whatever the environment names), to be stopped.
use_dynamodb "$(free_port)"
DYNAMODB_PID=${started_pids[-1]}
use_signing_keys
export BCRYPT_COST=4 REFRESH_REUSE_GRACE_SECONDS=1 SOURCE_REGISTRATIONS_PER_HOUR=1
unset CORS_ALLOW_ORIGINS
start_watch 1
DYNAMODB_PID=$DYNAMODB_PID .tools/venv/bin/python -B -m unittest tests/metrics/scenario.py
