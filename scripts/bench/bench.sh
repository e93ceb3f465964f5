#!/usr/bin/env bash
# `make bench`: builds the release bootstraps (the functions and the bench/*
# helpers) and the round-trips test, starts a DynamoDB Local and a local
# Secrets Manager of its own on free ports (stopped at the end), and runs
# scripts/bench/bench.py, which prints one table and writes it to bench/results.md.
# Loopback only; every step is bounded in count and time.
#
# A partial run, printed and not written to bench/results.md:
#   BENCH_SECTIONS=cold,warm           only these sections (bench.py's MEASURES)
#   BENCH_FUNCTIONS=status,authorizer  only these functions (and hello), and only
#                                      their bootstraps built, with register and
#                                      login (which make the bench's users) and
#                                      bench/dynamo-floor
#   BENCH_BASELINE=DIR                 DIR/<function>/bootstrap, another build's,
#                                      run next to this build's in cold and warm
# e.g. the authorizer's numbers against a copy of the bootstraps of main:
#   BENCH_SECTIONS=cold,warm BENCH_FUNCTIONS=status,authorizer \
#     BENCH_BASELINE=/tmp/main-bootstraps make bench
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# wrk, the HTTP load tool, from the distribution's archive; the load step is
# skipped (and says so) if it cannot be installed.
if ! command -v wrk >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "bench: installing wrk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
    || echo "bench: could not install wrk; the load step will be skipped" >&2
fi

# Every binary of the workspace, x86_64 or arm64 as the host: the functions
# (the binaries of the one package functions), bench-hello, bench-dynamo-floor,
# bench-bcrypt-verify, bench-rs256 and bench-ledger (a package each, whose
# binary has its name). With BENCH_FUNCTIONS, only the binaries named: with
# --bin, cargo builds no other target of the packages selected.
wants() { [ -z "${BENCH_SECTIONS:-}" ] || [[ ",$BENCH_SECTIONS," == *",$1,"* ]]; }
selection=()
select_bin() { [[ " ${selection[*]} " == *" --bin $1 "* ]] || selection+=(--bin "$1"); }
if [ -n "${BENCH_FUNCTIONS:-}" ]; then
  selection=(-p functions)
  # status and password are the references of other sections; §14 alone
  # sets its rows against hello and needs only the users' register and login.
  always="register login status password"
  if [ "${BENCH_SECTIONS:-}" = federation ]; then always="register login"; fi
  for function in ${BENCH_FUNCTIONS//,/ } $always; do
    select_bin "$function"
  done
  # The second factor's section runs its own functions (benchlib/settings.py's SECOND_FACTOR).
  # Issue 28's and 27's functions: their own section (benchlib/federation.py).
  if wants federation; then
    for function in oauth-start oauth-callback oauth-token oauth-link identities delete-identity webhooks; do
      select_bin "$function"
    done
  fi
  if wants second_factor; then
    for function in totp-enroll totp-confirm mfa-status login-mfa totp-disable new-recovery-codes reset-user-mfa; do
      select_bin "$function"
    done
  fi
  helpers=(bench-hello bench-dynamo-floor)
  if wants bcrypt; then helpers+=(bench-bcrypt-verify); fi
  if wants rs256 || wants verifier; then helpers+=(bench-rs256); fi
  if wants ledger; then helpers+=(bench-ledger); fi
  for helper in "${helpers[@]}"; do
    selection+=(-p "$helper")
    select_bin "$helper"
  done
fi
# The passkey functions from their own package's directory, as sam build
# builds them: at the root, cargo would unify auth's `passkeys` feature into
# every function (docs/passkeys.md), and status would be measured with code
# it never ships with.
if [ ${#selection[@]} = 0 ]; then selection=(--workspace --exclude functions-passkeys); fi
cargo lambda build --release --locked "${selection[@]}"
if wants passkeys; then
  (cd functions-passkeys && cargo lambda build --release --locked)
fi
# With a target directory shared by several worktrees (CARGO_TARGET_DIR), a
# build from another one could swap a bootstrap mid-run: the bench reads a
# copy in this worktree's target/lambda, where rie.py looks for them.
built=$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/lambda
if [ "$(realpath -m "$built")" != "$(realpath -m target/lambda)" ]; then
  rm -rf target/lambda && mkdir -p target && cp -R "$built" target/lambda
fi
# Section 15 (CPU per status call): status again in the cpu-bench profile,
# the release build with its symbols, for callgrind to name functions; and
# valgrind itself, from the distribution's archive (the section says so and
# stops if it cannot be installed).
if wants cpu; then
  cargo build --locked --profile cpu-bench -p functions --bin status
  mkdir -p target/cpu-bench
  cp "$(dirname "$built")/cpu-bench/status" target/cpu-bench/status
  if ! command -v valgrind >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1 \
      || echo "bench: could not install valgrind; section 15 will fail" >&2
  fi
fi
# The round-trips test, which counts DynamoDB requests per call for the last
# section (a debug build, as make test builds it): compiled now, not while
# anything is being timed.
if wants trips; then
  cargo test --locked -p api-tests --test round_trips --no-run \
    || echo "bench: the round-trips test does not build; the table will say so" >&2
fi

use_dynamodb "$(free_port)"
# The keys in the environment; §8 also puts them in a secret of the local
# Secrets Manager, which status reads at init when AUTH_SECRET_ID names it.
use_signing_keys
# One issuer for every path a token takes here: the emulator's events carry
# API Gateway's domainName (the issuer when PUBLIC_BASE_URL is unset), but the
# load step (§4) calls status through cargo lambda watch, whose requests carry
# its own address, and a token issued under one must verify under the other.
PUBLIC_BASE_URL=https://$(python3 -c 'import json
print(json.load(open("events/status-ok.json"))["requestContext"]["domainName"])')
export PUBLIC_BASE_URL
use_secrets_manager "$(free_port)"
# The deployed cost (template.yaml's BcryptCost default), since login is measured.
export BCRYPT_COST=12 ACCESS_TOKEN_TTL_SECONDS=3600
# The code mails' hourly limits (5 per address, 50 per source by default): the
# series mail one address, from one source, hundreds of times, and would time
# 429s. The limit is a number in the counters' condition: the requests and
# their cost are the same at any value. The emulators (benchlib/emulator.py)
# and both floors read these, and OUTBOX_TABLE (lib.sh), from the environment.
export MAILS_PER_EMAIL_PER_HOUR=100000 SOURCE_MAILS_PER_HOUR=100000
# Passkeys (§13): the relying party of make run, and the per-address limit of
# passkey sign-ins started raised as the mails' are.
export RP_ID=localhost RP_ORIGIN=http://localhost:9000 SOURCE_PASSKEY_SIGN_INS_PER_HOUR=100000
# Sign-in with another provider and webhooks (§14): the local mock provider,
# its starts per address raised as the mails' are; a local SQS and a
# webhook receiver that checks each delivery's signature.
if wants federation; then
  export SOURCE_OAUTH_STARTS_PER_HOUR=100000
  use_oidc_provider
  use_webhooks
fi
.tools/venv/bin/python scripts/bench/bench.py
