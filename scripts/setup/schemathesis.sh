#!/usr/bin/env bash
# Installs Schemathesis into .tools/schemathesis (idempotent: a second run is
# instant). Its own venv, apart from .tools/venv, so that its dependencies
# cannot clash with the SAM CLI's. Run by `make fuzz-api`, and by `make test`
# in the background while the stack compiles.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f .tools/schemathesis/.installed ] || ! cmp -s scripts/setup/fuzz-requirements.txt .tools/schemathesis/.installed; then
  echo "fuzz-api: installing Schemathesis into .tools/schemathesis" >&2
  python3 -m venv .tools/schemathesis
  .tools/schemathesis/bin/pip install --quiet --disable-pip-version-check -r scripts/setup/fuzz-requirements.txt
  cp scripts/setup/fuzz-requirements.txt .tools/schemathesis/.installed
fi
