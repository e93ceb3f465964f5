"""2. Warm latency per function, next to the same DynamoDB calls from bare
clients; and (for 3 and 5) the login and forgot series with unknown emails
and each bootstrap's peak RSS."""

import collections

from .cold import BASELINE, bcrypt_work
from .emulator import BenchEmulator
from .settings import (ALTERNATES, AUTHORIZER, BCRYPT_COST, FLOORED, FUNCTIONS, HELLO, MEASURED, STORAGELESS,
                       TARGETS, WARM_INVOKES, WARMUP, baseline)
from .stats import median, p50_p99, ratio

TITLE = "warm latency and floors"
NOTE = f"""\
- 2: {WARM_INVOKES} invokes after {WARMUP} warm-up ones, `REPORT Duration` (what Lambda
  bills). The floor is the same DynamoDB calls from a bare client in the same run:
  bench/dynamo-floor (same Rust SDK and versions, ratio against it) and boto3,
  which costs more per call than the Rust SDK, so a ratio against boto3 would
  flatter us. Register and login include a bcrypt hash/verify at cost
  {BCRYPT_COST}, a password change a verify and a hash, so their reference and
  ratio (in 1 too) add one bcrypt verify p50 per bcrypt run to the Rust SDK
  floor. Refresh chains the refresh token each call returns into the next;
  logout, revoke-session and password end a session written before each call
  (outside the timed part, for the floors too). Everything talks to DynamoDB
  Local on loopback: the floor is far below DynamoDB's real latency, so the
  ratios overstate our share in production. jwks, openid-configuration and
  example-protected make no DynamoDB call: hello is their reference. The
  authorizer's series is allowed checks of one token (signature, then the
  user, session and revocation in one DynamoDB read, as status does), against
  status's own series. With a baseline build (BENCH_BASELINE), its bootstrap
  runs beside this build's, the two invoked in turn, so that both series see
  the same moments (DynamoDB Local's JIT warming up included); no floors.
  forgot-password asks for codes for fresh addresses
  with an account (its floor: the main user's); reset-password and
  verify-email send back wrong codes (400: the read, then the wrong try
  counted; a success needs a freshly mailed code per call); resend-verification
  mails the main user, whose address stays unverified. bench.sh raises
  MAILS_PER_EMAIL_PER_HOUR and SOURCE_MAILS_PER_HOUR to 100000, for the
  functions and both floors, so that no series measures a 429."""


def measure(calls, floors):
    """One emulator per function, a warm-up, then the series, with the floors
    measured right after each, so they share the machine's mood."""
    warm, rust, boto, rss = {}, {}, {}, {}
    for function in MEASURED:
        emulator = BenchEmulator(function)
        other = BenchEmulator(function, of_baseline=True) if baseline(function) else None
        try:
            for _ in range(WARMUP):
                calls.invoke(emulator, function)
                if other:
                    calls.invoke(other, function)
                if function in ALTERNATES:
                    # The alternate's path warmed as well: its first calls
                    # would otherwise count against it.
                    calls.invoke(emulator, ALTERNATES[function])
            series = collections.defaultdict(list)
            for _ in range(WARM_INVOKES):
                series[function].append(calls.invoke(emulator, function))
                if other:
                    series[function + BASELINE].append(calls.invoke(other, function))
                if function in ALTERNATES:
                    # Alternating, so both series see the same conditions.
                    alternate = ALTERNATES[function]
                    series[alternate].append(calls.invoke(emulator, alternate))
            rss[function] = emulator.peak_rss_mb()
        finally:
            emulator.close()
            if other:
                other.close()
        warm.update({name: [duration for _, duration in runs] for name, runs in series.items()})
        if function in FLOORED:
            rust[function] = floors.rust(function, WARMUP + WARM_INVOKES)[WARMUP:]
            boto[function] = floors.boto3(function, WARM_INVOKES)
    return {"durations": warm, "rust": rust, "boto3": boto, "rss": rss}


def rows(table, results):
    warm = results["warm"]
    durations, rust, boto = warm["durations"], warm["rust"], warm["boto3"]
    for f in FLOORED:
        work, shown = bcrypt_work(f, results)
        table.row("2 warm", f"{f}: REPORT Duration p50 / p99", p50_p99(durations[f]),
                  f"Rust SDK {p50_p99(rust[f])}; boto3 {p50_p99(boto[f])}{shown}",
                  ratio(median(durations[f]), median(rust[f]) + work),
                  TARGETS["warm"] if f == "status" else "")
    for f in (f for f in STORAGELESS if f in FUNCTIONS):
        table.row("2 warm", f"{f}: REPORT Duration p50 / p99", p50_p99(durations[f]),
                  f"hello {p50_p99(durations[HELLO])}", ratio(median(durations[f]), median(durations[HELLO])), "")
    if AUTHORIZER in durations and "status" in durations:
        table.row("2 warm", f"{AUTHORIZER} (allowed): REPORT Duration p50 / p99", p50_p99(durations[AUTHORIZER]),
                  f"status {p50_p99(durations['status'])}",
                  ratio(median(durations[AUTHORIZER]), median(durations["status"])), TARGETS["authorizer warm"])
    for f in MEASURED:
        if f + BASELINE in durations:
            base = durations[f + BASELINE]
            table.row("2 warm", f"{f}, baseline: REPORT Duration p50 / p99", p50_p99(base),
                      f"this build {p50_p99(durations[f])}",
                      f"{ratio(median(durations[f]), median(base))} (this / baseline)", "")
    table.row("2 warm", "hello: REPORT Duration p50 / p99", p50_p99(durations[HELLO]),
              "runtime and emulator alone", "", "")
