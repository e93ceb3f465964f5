"""What `make bench` measures and how often; the targets it shows."""

import json
import os
import subprocess

HELLO = "bench-hello"
TOOLS = "target/lambda"  # bench-dynamo-floor and bench-bcrypt-verify land here too
RESULTS = "bench/results.md"


# What the other measures set the rest against: the authorizer, load and
# secrets rows against status, section 3 against login and password.
ALWAYS = ("status", "login", "password")


# Not timed: the admin calls (an operator's, rare, each changing or erasing
# the user it names), delete-account (each call ends its account),
# update-account and the email change. Section 6 counts their DynamoDB
# requests all the same.
NOT_TIMED = ("list-users", "get-user", "disable-user", "enable-user", "sign-out-user", "delete-user",
             "delete-account", "set-user-roles", "update-user",
             # Issue 26's metadata write: its floor (one conditional update of
             # the profile) is not in bench/dynamo-floor yet; the round trips
             # count it.
             "update-account",
             # Issue 26's email change: each request mails (and counts
             # against the hourly mail limits), each confirmation needs a
             # mailed code; their round trips are counted.
             "change-email", "confirm-email-change",
             # Issue 24's passkeys: a ceremony needs an authenticator's
             # answer; their own section (benchlib/passkeys.py) signs one.
             # Their round trips are counted (tests/round_trips.rs).
             "passkey-register-options", "passkey-register", "passkey-login-options",
             "passkey-login", "passkeys", "rename-passkey", "delete-passkey",
             # Issue 28's hosted sign-in: each call needs a sign-in under
             # 5 minutes old and stores a code; its round trips are counted.
             "oauth-code")


# The second factor's functions: measured by their own section
# (benchlib/second_factor.py), which signs in with a TOTP code, not by the
# cold and warm loops.
SECOND_FACTOR = ("totp-enroll", "totp-confirm", "mfa-status", "login-mfa", "totp-disable",
                 "new-recovery-codes", "reset-user-mfa")


# Sign-in with another provider (issue 28) and the webhooks function (issue
# 27, an SQS consumer with no route): measured by their own section
# (benchlib/federation.py), which times the calls a series can repeat (a
# sign-in at the provider needs a browser's round trip per callback).
FEDERATION = ("oauth-start", "oauth-callback", "oauth-token", "oauth-link", "identities",
              "delete-identity", "webhooks")


def functions():
    """Every function but NOT_TIMED, in the order of Cargo.toml's router (the
    routes make run serves), as cargo reads it (lib.sh's `routes` does the
    same). With BENCH_FUNCTIONS (comma-separated names), only those and ALWAYS:
    a quicker run while working on a few functions."""
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        check=True, capture_output=True, text=True).stdout)
    router = metadata["metadata"]["lambda"]["watch"]["router"]
    names = [name for name in dict.fromkeys(target["function"] for targets in router.values() for target in targets)
             if name not in NOT_TIMED and name not in SECOND_FACTOR and name not in FEDERATION]
    wanted = {name.strip() for name in os.environ.get("BENCH_FUNCTIONS", "").split(",") if name.strip()}
    unknown = wanted - set(names) - {"authorizer", *FEDERATION}
    if unknown:
        raise SystemExit(f"bench: BENCH_FUNCTIONS names no function of the router: {sorted(unknown)}")
    return [name for name in names if not wanted or name in wanted or name in ALWAYS]


# A partial run (scripts/bench/bench.sh's header): only these sections (names of
# bench.py's MEASURES) and only these functions (the authorizer included),
# printed and not written to bench/results.md. BENCH_BASELINE names a folder
# of another build's bootstraps (<folder>/<function>/bootstrap), run next to
# this build's in the cold and warm sections.
SECTIONS = [name for name in os.environ.get("BENCH_SECTIONS", "").split(",") if name]
SELECTED = [name for name in os.environ.get("BENCH_FUNCTIONS", "").split(",") if name]
BASELINE = os.environ.get("BENCH_BASELINE", "")
PARTIAL = bool(SECTIONS or SELECTED)

FUNCTIONS = functions()
# The Lambda authorizer: no route of its own (API Gateway calls it before a
# protected route), so not in the router; measured next to hello and status.
AUTHORIZER = "authorizer"
# What the cold and warm sections run, in their order.
MEASURED = [HELLO, *FUNCTIONS, *([AUTHORIZER] if not SELECTED or AUTHORIZER in SELECTED else [])]


def baseline(function):
    """The baseline build's bootstrap of `function`, if the run has one."""
    path = os.path.join(BASELINE, function, "bootstrap") if BASELINE else ""
    return path if function != HELLO and os.path.exists(path) else None
# Functions that make no DynamoDB call: no storage floor to set them against,
# so hello (the runtime alone) is their reference.
STORAGELESS = [function for function in FUNCTIONS
               if function in ("jwks", "openid-configuration", "example-protected", "account-page")]
FLOORED = [function for function in FUNCTIONS if function not in STORAGELESS]
# Series run alternately with a function's own, in one warm process, for
# section 3: a call that must take as long as the function's (an unknown
# email next to a known one).
ALTERNATES = {"login": "login-unknown", "forgot-password": "forgot-unknown"}

COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "10"))
WARM_INVOKES = int(os.environ.get("BENCH_WARM_INVOKES", "200"))
# Calls of each endpoint's requests that warm DynamoDB Local's JIT before
# anything is timed (floors.warm_up_database).
DATABASE_WARMUP = int(os.environ.get("BENCH_DATABASE_WARMUP", "1000"))
WARMUP = 5  # invokes dropped before a warm series: connection set-up, first allocations
BCRYPT_VERIFIES = int(os.environ.get("BENCH_BCRYPT_VERIFIES", "30"))
RS256_RUNS = int(os.environ.get("BENCH_RS256_RUNS", "200"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))
LOAD_CONNECTIONS = 16
LOAD_INSTANCES = 4  # status processes behind the router: make run's CONCURRENCY default
PASSWORD = "correct horse battery"
BCRYPT_COST = int(os.environ.get("BCRYPT_COST", "12"))
# The code mails' hourly limits, per address and per source (bench.sh raises
# them: the series mail one address hundreds of times); the boto3 floor's
# counters are conditional on them as the functions' are.
MAILS_PER_EMAIL_PER_HOUR = int(os.environ.get("MAILS_PER_EMAIL_PER_HOUR", "5"))
SOURCE_MAILS_PER_HOUR = int(os.environ.get("SOURCE_MAILS_PER_HOUR", "50"))

# bcrypt runs per call: register hashes, login verifies, a password change
# verifies the current password and hashes the new one (a hash at one cost
# takes as long as a verify). Part of these functions' floor.
BCRYPT_RUNS = {"register": 1, "login": 1, "password": 2}

# Targets from issues 6 and 12, shown next to the numbers (never asserted).
TARGETS = {
    "init": "≤ 2×", "first": "≤ 1.5× (status)", "warm": "≤ 1.3× p50 (status)",
    "authorizer init": "≤ 1.3× hello", "authorizer warm": "≤ 1× status p50",
    "growth": "≤ +2 ms",
    "bcrypt": "≤ 1.1×", "unknown": "0.9–1.1×", "zip": "≤ 4 MB", "rss": "≤ 40 MB",
    "trips": {"status": "1", "logout": "1", "register": "1", "login": "≤ 3",
              # Issue 13: forgot costs the same for known and unknown addresses.
              "forgot": "= unknown email's", "forgot, unknown email": "= known email's"},
}
