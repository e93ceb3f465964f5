"""`make bench`: the numbers of issues 6, 12 and 16, as ratios measured side by side in one run.

Run by scripts/bench/bench.sh, which builds the release bootstraps and the round-trips
test, starts DynamoDB Local on a free port (AWS_ENDPOINT_URL_DYNAMODB) and sets
the functions' environment (SIGNING_KEYS, tables, BCRYPT_COST=12, the code
mails' hourly limits raised), and a
local Secrets Manager (AWS_ENDPOINT_URL_SECRETS_MANAGER). Prints one table and
writes it, with the machine and the commit, to bench/results.md.
For every function of Cargo.toml's router, and the Lambda authorizer:

  1. cold start under the Lambda emulator, next to a lambda_http hello-world;
  2. warm latency, next to the same DynamoDB calls from a bare client;
  3. login and password change next to bcrypt; unknown email next to a known
     one, for login and for forgot-password;
  4. HTTP load on status through cargo lambda watch's router (wrk, 16 connections);
  5. zipped bootstrap size and peak RSS;
  6. DynamoDB requests per call, as the round-trips test counts them;
  7. RS256 sign and verify in-process next to HS256, and the growth of the
     calls that sign a token against the last committed run;
  8. status's INIT with its keys from Secrets Manager next to the environment;
  9. the latency ledger: a warm and a first status call split into their
     parts, each measured, summed and set against 1 and 2;
 10. two-step sign-in: a TOTP login next to a plain one, the factor's calls,
     and its functions' INIT;
 11. the token hook; 12. the verifier crate;
 13. passkeys: a passkey sign-in next to a password login, the passkey
     functions' INIT and zip next to status's;
 14. sign-in with another provider and webhooks: each function's INIT, first
     invoke, warm p50 over its floor and zip;
 15. CPU per status call: user + system time per call, and callgrind's
     instructions per call split by the ledger's parts.

Each measure is a module of benchlib/ (its docstring has the map); a partial
run (BENCH_SECTIONS, BENCH_FUNCTIONS, BENCH_BASELINE: see scripts/bench/bench.sh)
runs some of them and only prints its table. Nothing is asserted: machines here are shared and noisy, so read the ratios. Every loop
is bounded in count, every wait in time; everything is on loopback.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "local")]  # benchlib, and rie (scripts/local)
from benchlib import (bcrypt, cold, cpu, federation, ledger, load, passkeys, report, rs256,  # noqa: E402
                      second_factor, secrets, size, token_hook, trips, verifier, warm)
from benchlib.calls import Calls  # noqa: E402
from benchlib.emulator import check_bootstraps  # noqa: E402
from benchlib.floors import Floors  # noqa: E402
from benchlib.settings import DATABASE_WARMUP, FLOORED, PARTIAL, SECTIONS  # noqa: E402

# In the table's order, which is also the order they run in.
MEASURES = {"cold": cold, "warm": warm, "bcrypt": bcrypt, "load": load, "size": size, "trips": trips,
            "rs256": rs256, "secrets": secrets, "ledger": ledger, "second_factor": second_factor,
            "token_hook": token_hook, "verifier": verifier, "passkeys": passkeys,
            "federation": federation, "cpu": cpu}
if SECTIONS:
    unknown = set(SECTIONS) - set(MEASURES)
    if unknown:
        sys.exit(f"bench: no section {', '.join(sorted(unknown))} (BENCH_SECTIONS: {', '.join(MEASURES)})")
    MEASURES = {name: measure for name, measure in MEASURES.items() if name in SECTIONS}


def main():
    check_bootstraps()
    calls = Calls()
    try:
        floors = Floors(calls)
        started = time.monotonic()
        warmed = floors.warm_up_database(FLOORED, DATABASE_WARMUP)
        print(f"bench: DynamoDB Local warmed up, {DATABASE_WARMUP} calls of each endpoint's requests in "
              f"{time.monotonic() - started:.0f} s (p50 of the first tenth → the last: "
              + ", ".join(f"{op} {first:.2f} → {last:.2f} ms" for op, (first, last) in warmed.items()) + ")",
              file=sys.stderr, flush=True)
        results = {}
        for name, measure in MEASURES.items():
            print(f"bench: {measure.TITLE}…", file=sys.stderr, flush=True)
            started = time.monotonic()
            results[name] = measure.measure(calls, floors)
            print(f"bench: {measure.TITLE} took {time.monotonic() - started:.0f} s",
                  file=sys.stderr, flush=True)
    finally:
        calls.close()
    table = report.Table()
    for measure in MEASURES.values():
        measure.rows(table, results)
    notes = [measure.NOTE for measure in MEASURES.values()]
    if PARTIAL:
        report.show(table, notes)
    else:
        print(f"bench: written to {report.write(table, notes)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
