#!/usr/bin/env bash
# Starts the Amazon SES v2 emulator (npm aws-ses-v2-local) on 127.0.0.1:PORT in
# the background and waits until it is healthy; prints its PID. In memory: its
# mails go with it. Usage: ses-local.sh PORT LOGFILE
# Its web view of the mails sent is http://127.0.0.1:PORT/; GET /store lists
# them as JSON, POST /clear-store empties it. The SDK reaches it through
# AWS_ENDPOINT_URL_SESV2 (see use_ses in scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
port=$1 log=$2

cli=$PWD/.tools/ses/node_modules/aws-ses-v2-local/dist/cli.js
[ -f "$cli" ] || { echo "the SES emulator is not installed: run scripts/setup/tools.sh" >&2; exit 1; }

node "$cli" --host 127.0.0.1 --port "$port" >"$log" 2>&1 </dev/null &
pid=$!
scripts/local/wait-for-port.sh "the SES emulator" "$pid" "$port" "$log" >/dev/null
for _ in $(seq 1 50); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/health-check"; then
    echo "$pid"; exit 0
  fi
  sleep 0.1
done
echo "the SES emulator on port $port is not healthy:" >&2; cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
