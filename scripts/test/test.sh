#!/usr/bin/env bash
# `make test`: every check, against a DynamoDB Local of its own on a free port
# (stopped again at the end):
#   1. format, template lint, unit tests and the API suite in-process;
#   2. the API suite again over HTTP through `cargo lambda watch`, then the
#      functions' log checked for secrets, the metrics of a scenario on a
#      stack of its own, Schemathesis over openapi.yaml beside the account
#      page in headless Chromium;
#   3. every file in events/ through the Lambda emulator, on the dev-profile
#      binaries stage 1 built (as cargo lambda watch builds them): the invoke
#      path, not the shipping optimisations, which `make build` and
#      `make bench` cover.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# stage TEXT: names the next stage, with the seconds since make test began,
# so that a slow stage shows in any log (the budget is 15 minutes).
stage() { echo "test: [${SECONDS} s] $*" >&2; }

# Schemathesis (stage 4's, a download) installs while the stack compiles.
schemathesis_log=$(mktemp)
cleanup_files+=("$schemathesis_log")
scripts/setup/schemathesis.sh >"$schemathesis_log" 2>&1 &
schemathesis_pid=$!
started_pids+=("$schemathesis_pid")

cargo fmt --all -- --check
sam validate --lint --template template.yaml --region us-east-1
# cfn-lint with the serverless rules; the exceptions, with their reasons, in .cfnlintrc.yaml.
cfn-lint
# One build of the stack for every stage: the tests here, the functions that
# cargo lambda watch builds, the tools. Cargo unifies features over the
# packages a build selects, so a package whose dev-dependencies turn on more
# of a shared crate (the verifier's axum turns on hyper's server) would give
# the tests a hyper, an AWS SDK, a lambda_http and an auth of their own, and
# the watch would compile the stack again: the verifier is tested apart, with
# every feature (the axum extractor, its example), no service needed.
# The functions' packages have no tests (each binary is one line): a test
# harness of each would be fifty links for nothing. Their binaries are built
# below, as the watch runs them.
in_process=(--workspace --exclude token-auth-verify --exclude functions --exclude functions-passkeys)
stage "the tests' build"
cargo test --locked "${in_process[@]}" --no-run
# The keys and admin tools as that build made them (tools/keys and
# tools/admin have tests that run them): `cargo run -p keys` would resolve
# the keys package's features alone and compile the stack a second time.
export KEYS_BIN="${CARGO_TARGET_DIR:-target}/debug/keys" ADMIN_BIN="${CARGO_TARGET_DIR:-target}/debug/admin"

use_dynamodb "$(free_port)"
# The mails of the HTTP run and of events/ go to an SES emulator of its own.
use_ses "$(free_port)"
# Throwaway keys and the cheapest bcrypt cost; in-process requests carry no
# API domain, so the issuer is set.
use_signing_keys
export PUBLIC_BASE_URL=http://127.0.0.1
# Passkeys' relying party: an IP address is no RP ID (docs/passkeys.md).
export RP_ID=localhost RP_ORIGIN=http://localhost:9000
# A short reuse grace window, so tests can wait it out.
export BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=3600 REFRESH_REUSE_GRACE_SECONDS=2
# Sign-in with another provider: the local `mock` provider, for the
# in-process suites (tests/oidc.rs, round_trips) and the HTTP run.
use_oidc_provider


# The tests run from their binaries, leaving the build directory free: the
# functions' binaries (stages 2 to 5 run them) and the verifier build beside
# them, and the pumps' tests run too. Each one's output is shown when it ends.
stage "unit tests and the API suite in-process; beside them, the functions' build, the verifier and the pumps' tests"
tests_log=$(mktemp) pumps_log=$(mktemp)
cleanup_files+=("$tests_log" "$pumps_log")
run_tests "${in_process[@]}" >"$tests_log" 2>&1 &
tests_pid=$!
started_pids+=("$tests_pid")
# Until the runner has its binaries (a check of the build just made) and
# runs them; cargo test, without nextest, holds the build directory to the
# end, and the builds below wait for it.
for _ in $(seq 1 120); do
  if grep -qE '^ *(Starting|Running) ' "$tests_log" || ! kill -0 "$tests_pid" 2>/dev/null; then break; fi
  sleep 0.5
done
# The local stream pump never skips a record; the queue pump and the webhook receiver.
.tools/venv/bin/python -B -m unittest tests/pump/test_stream_pump.py tests/pump/test_queue_pump.py >"$pumps_log" 2>&1 &
pumps_pid=$!
started_pids+=("$pumps_pid")
cargo build --locked -p functions -p functions-passkeys
cargo test --locked -p token-auth-verify --all-features
tests_status=0 pumps_status=0
wait "$tests_pid" || tests_status=$?
stage "unit tests and the API suite in-process (their output)"
cat "$tests_log" >&2
[ "$tests_status" = 0 ] || { echo "test: the in-process tests failed" >&2; exit "$tests_status"; }
wait "$pumps_pid" || pumps_status=$?
stage "the local stream pump never skips a record; the queue pump and the webhook receiver (their output)"
cat "$pumps_log" >&2
[ "$pumps_status" = 0 ] || { echo "test: the pumps' tests failed" >&2; exit "$pumps_status"; }

stage "the API suite over HTTP, through cargo lambda watch"
scripts/test/test-e2e.sh

stage "the metrics of a scenario add up, on a stack of its own"
scripts/test/test-metrics.sh

# Schemathesis and the browser each wait on their own stack more than they
# compute (a Python generator, a headless Chromium, each over its own cargo
# lambda watch and the binaries stage 1 built): side by side they take
# about the longer one's time. The browser's output is shown when it ends.
stage "Schemathesis over openapi.yaml, beside the account page in headless Chromium"
wait "$schemathesis_pid" || { cat "$schemathesis_log" >&2; exit 1; }
browser_log=$(mktemp)
cleanup_files+=("$browser_log")
setsid scripts/test/test-browser.sh >"$browser_log" 2>&1 </dev/null &
browser_pid=$!
started_pids+=("$browser_pid")
# Half of `make fuzz-api`'s examples per operation and phase (about 6,000
# cases in all): the contract is checked the same way, in half the time;
# `make fuzz-api` alone keeps the full count.
FUZZ_MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-50} scripts/test/fuzz-api.sh
browser_status=0
wait "$browser_pid" || browser_status=$?
stage "the account page in headless Chromium (its output)"
cat "$browser_log" >&2
[ "$browser_status" = 0 ] || { echo "test: the browser tests failed" >&2; exit "$browser_status"; }

stage "events/ through the Lambda emulator, keys from a local Secrets Manager"
# Every function's binary (the packages functions and functions-passkeys),
# already built by stage 1: a check, not a build (a build of its own, another
# profile, cost minutes of CI for the same path).
cargo build --locked -p functions -p functions-passkeys
# The deployed path: no key in the functions' environment; they read the
# secret named by AUTH_SECRET_ID at init, as in template.yaml.
use_secrets_manager "$(free_port)"
keys_tool create --secret token-auth/events >/dev/null
env -u SIGNING_KEYS -u REFRESH_TOKEN_SECRET -u PUBLIC_BASE_URL AUTH_SECRET_ID=token-auth/events \
  RIE_BOOTSTRAPS="${CARGO_TARGET_DIR:-target}/debug" .tools/venv/bin/python scripts/local/rie.py events
stage "all passed"
