#!/usr/bin/env bash
# Waits up to 30 s for a local server just started in the background to open
# its port; prints its PID when it does, else shows its log and stops it.
# Usage: wait-for-port.sh NAME PID PORT LOGFILE
set -euo pipefail
name=$1 pid=$2 port=$3 log=$4
for _ in $(seq 1 150); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$name exited at start:" >&2; cat "$log" >&2; exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$pid"; exit 0
  fi
  sleep 0.2
done
echo "$name did not open port $port within 30 s" >&2
kill "$pid" 2>/dev/null || true
exit 1
