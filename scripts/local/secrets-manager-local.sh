#!/usr/bin/env bash
# Starts a local Secrets Manager (moto's server mode) on 127.0.0.1:PORT in the
# background and waits until it answers; prints its PID. In memory: its secrets
# go with it. Usage: secrets-manager-local.sh PORT LOGFILE
# It serves every AWS API moto emulates on that port; only Secrets Manager is
# pointed at it (AWS_ENDPOINT_URL_SECRETS_MANAGER, see use_secrets_manager in scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
port=$1 log=$2

server=$PWD/.tools/venv/bin/moto_server
[ -x "$server" ] || { echo "moto is not installed: run scripts/setup/tools.sh" >&2; exit 1; }

"$server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
pid=$!
exec scripts/local/wait-for-port.sh "moto_server" "$pid" "$port" "$log"
