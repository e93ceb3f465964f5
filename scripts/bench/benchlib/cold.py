"""1. Cold start: INIT and first invoke under a fresh emulator, next to a
lambda_http hello-world and a fresh bare client's first DynamoDB call."""

import collections

from .emulator import BenchEmulator
from .settings import AUTHORIZER, BCRYPT_RUNS, COLD_RUNS, FLOORED, FUNCTIONS, HELLO, MEASURED, TARGETS, baseline
from .stats import median, ms, ratio

TITLE = "cold starts"
NOTE = f"""\
- 1: each of {COLD_RUNS} runs starts a fresh Runtime Interface Emulator (aws-sam-cli's)
  and bootstrap per function. INIT is the emulator's `INIT REPORT durationMs`;
  the emulator's first `REPORT Duration` includes the init, so "first invoke" is
  that minus INIT (Lambda reports the two apart). "bare client's 1st call" is a
  fresh Rust SDK client's first DynamoDB call of that endpoint (connection set-up
  included), from bench/dynamo-floor, taken in each run next to the invokes. The functions that make no DynamoDB call
  (jwks, openid-configuration, example-protected, account-page) have INIT
  rows only. The
  authorizer is invoked as API Gateway calls it: a payload 2.0 request with
  the bearer token of a registered user, which it allows. With a baseline
  build (BENCH_BASELINE), its bootstraps run in the same loop, next to this
  build's (before it every other run), and "f, baseline" rows set this build
  against it."""

BASELINE = " (baseline)"  # the key of a baseline bootstrap's series


def measure(calls, floors):
    """A fresh emulator and bootstrap per run; functions interleaved run by run
    so that drift on a shared machine touches all of them alike."""
    init = collections.defaultdict(list)
    first = collections.defaultdict(list)
    bare_first = collections.defaultdict(list)
    subjects = [(f, False) for f in MEASURED]
    subjects += [(f, True) for f in MEASURED if baseline(f)]
    subjects.sort(key=lambda subject: MEASURED.index(subject[0]))  # each next to its baseline
    for run in range(COLD_RUNS):
        # A baseline goes first every other run: neither build always follows the other.
        for function, is_baseline in sorted(subjects, key=lambda s: (MEASURED.index(s[0]), s[1] != run % 2)):
            emulator = BenchEmulator(function, of_baseline=is_baseline)
            try:
                _, report_ms = calls.invoke(emulator, function)
                key = function + (BASELINE if is_baseline else "")
                init[key].append(emulator.init_ms())
                first[key].append(emulator.first_invoke_ms(report_ms))
            finally:
                emulator.close()
        # A fresh bare client's first call (connection set-up included), in
        # the same loop: DynamoDB Local as warm as for the first invokes.
        for f in FLOORED:
            bare_first[f].append(floors.rust(f, 1)[0])
    return init, first, bare_first


def bcrypt_work(function, results):
    """The bcrypt share of a function's floor (ms), and how it is shown."""
    runs = BCRYPT_RUNS.get(function, 0)
    if runs and "bcrypt" not in results:
        return 0.0, " (bcrypt not measured in this run)"
    work = runs * median(results["bcrypt"]) if runs else 0.0
    shown = {0: "", 1: f" + bcrypt {ms(work)}"}.get(runs, f" + {runs} bcrypt {ms(work)}")
    return work, shown


def rows(table, results):
    init, first, bare_first = results["cold"]
    h_init = median(init[HELLO])
    for f in FUNCTIONS:
        table.row("1 cold", f"{f}: INIT median / max", f"{ms(median(init[f]))} / {ms(max(init[f]))}",
                  f"hello {ms(h_init)} / {ms(max(init[HELLO]))}", ratio(median(init[f]), h_init),
                  TARGETS["init"])
    if AUTHORIZER in init:
        table.row("1 cold", f"{AUTHORIZER}: INIT median / max",
                  f"{ms(median(init[AUTHORIZER]))} / {ms(max(init[AUTHORIZER]))}",
                  f"hello {ms(h_init)} / {ms(max(init[HELLO]))}", ratio(median(init[AUTHORIZER]), h_init),
                  TARGETS["authorizer init"])
    for f in MEASURED:
        if f + BASELINE in init:
            base = init[f + BASELINE]
            table.row("1 cold", f"{f}, baseline: INIT median / max", f"{ms(median(base))} / {ms(max(base))}",
                      f"this build {ms(median(init[f]))}; hello {ms(h_init)}",
                      f"{ratio(median(init[f]), median(base))} (this / baseline); "
                      f"{ratio(median(base), h_init)} hello", "")
    for f in FLOORED:
        work, shown = bcrypt_work(f, results)
        table.row("1 cold", f"{f}: first invoke median / max",
                  f"{ms(median(first[f]))} / {ms(max(first[f]))}",
                  f"bare client's 1st call {ms(median(bare_first[f]))}{shown}; "
                  f"hello {ms(median(first[HELLO]))}",
                  ratio(median(first[f]), median(bare_first[f]) + work),
                  TARGETS["first"] if f == "status" else "")
    # The authorizer's check is status's (one DynamoDB read), so status is its reference.
    if AUTHORIZER not in first or "status" not in first:
        return
    table.row("1 cold", f"{AUTHORIZER}: first invoke median / max",
              f"{ms(median(first[AUTHORIZER]))} / {ms(max(first[AUTHORIZER]))}",
              f"status {ms(median(first['status']))} / {ms(max(first['status']))}",
              ratio(median(first[AUTHORIZER]), median(first["status"])), "")
