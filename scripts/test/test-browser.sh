#!/usr/bin/env bash
# The account page in a real browser (tests/browser): Debian's headless
# Chromium and chromedriver (installed here when missing), driven by Selenium
# from PyPI, against `cargo lambda watch` over the DynamoDB Local the
# environment names (make test's) or one started here. Access tokens live 5 s,
# so the page's silent refresh runs for real.
#   SCREENSHOTS=dir   where the screenshots go (default .tools/screenshots;
#                     `make screenshots` writes docs/screenshots, the README's)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "browser: installing Debian's chromium and chromium-driver" >&2
  sudo_if_needed=()
  [ "$(id -u)" = 0 ] || sudo_if_needed=(sudo)
  "${sudo_if_needed[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null \
    || { "${sudo_if_needed[@]}" apt-get update >/dev/null \
      && "${sudo_if_needed[@]}" apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null; }
fi
if ! cmp -s scripts/setup/browser-requirements.txt .tools/venv/.browser-installed; then
  .tools/venv/bin/pip install --quiet --disable-pip-version-check -r scripts/setup/browser-requirements.txt
  cp scripts/setup/browser-requirements.txt .tools/venv/.browser-installed
fi

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  use_dynamodb "$(free_port)"
fi
# The mailer must start (test_cors.py calls it through the invoke path): it
# needs a sender and SES, make test's or one started here.
if [ -z "${SES_URL:-}" ]; then
  use_ses "$(free_port)"
fi
use_signing_keys
export BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=5
# Every browser here is 127.0.0.1.
export SOURCE_LOGIN_FAILURES_BEFORE_DELAY=100000 SOURCE_REGISTRATIONS_PER_HOUR=100000
export SOURCE_MAILS_PER_HOUR=100000 SOURCE_PASSKEY_SIGN_INS_PER_HOUR=100000
# One origin besides the page's own may call the API (tests/browser/test_cors.py).
export CORS_ALLOW_ORIGINS=${CORS_ALLOW_ORIGINS:-https://app.example}
# Sign-in with a provider (tests/browser/test_providers.py): the local mock
# (make test's, or one started here), and an app on a port of its own that
# uses the page as its hosted sign-in, whose /cb a sign-in may return to
# (start_watch adds the page's own URLs).
use_oidc_provider
export BROWSER_APP_PORT=${BROWSER_APP_PORT:-$(free_port)}
[ -z "${ALLOWED_REDIRECT_URLS:-}" ] \
  || export ALLOWED_REDIRECT_URLS="$ALLOWED_REDIRECT_URLS,http://127.0.0.1:$BROWSER_APP_PORT/cb"
start_watch 2
# Each function compiles on its first request: have them all built before a
# browser waits on one (cargo lambda watch answers 503 meanwhile).
# The mailer too: test_cors.py calls it through the Lambda invoke path.
{ routes; echo "POST /2015-03-31/functions/mailer/invocations"; } | while read -r method path _; do
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 -X "$method" "$API_URL${path//\{id\}/warm-up}" || true)
    [ "$code" != 503 ] && [ "$code" != 000 ] && break
    sleep 1
  done
done
# Nothing may appear in the project while the watch runs (a new file makes it
# restart every function, killing requests in flight): no bytecode, no pytest
# cache, screenshots to a scratch directory first.
shots=$(mktemp -d)
cleanup_files+=("$shots")
PYTHONDONTWRITEBYTECODE=1 SCREENSHOTS=$shots \
  .tools/venv/bin/python -m pytest -q -p no:cacheprovider --reruns 1 tests/browser ${PYTEST_ARGS:-}
mkdir -p "${SCREENSHOTS:-.tools/screenshots}"
cp "$shots"/*.png "${SCREENSHOTS:-.tools/screenshots}/"
