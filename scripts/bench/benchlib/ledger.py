"""9. The latency ledger (issue 16): one warm status call and one first call
split into their parts, each measured, and the parts set against the whole
that section 2 (warm) and section 1 (first invoke) measured in the same run.

bench/ledger runs status's handler path twice over:
- as a bootstrap under the emulator, as status runs, timing on each invoke
  the bearer, the JWT's verification, the token check's DynamoDB request
  split at the SDK's interceptor hooks, the store's own work around it and
  the reply: a first invoke timed where it happens, in a process the
  emulator started;
- in-process, for what the handler cannot see from inside: lambda_http's
  parse of the event and the response document (status's and hello's).
The runtime's own share (the emulator's round trips) is hello's latency in
the same loop less hello's own parse and response: a ledger of parts
measured, with one remainder that is named, not guessed."""

import json
import os
import subprocess
import tempfile

from .cold import bcrypt_work
from .emulator import BenchEmulator
from .settings import AUTHORIZER, COLD_RUNS, FLOORED, HELLO, TOOLS, WARM_INVOKES, WARMUP
from .stats import median

TITLE = "latency ledger"
# Processes: each gives one first call (the cold path's parts) and a warm series.
LEDGER_RUNS = int(os.environ.get("BENCH_LEDGER_RUNS", str(max(COLD_RUNS, 3))))
# Between calls, as between the warm section's invokes: a hot loop would keep
# warm what an invoke finds cold (caches, parked threads).
PAUSE_MS = int(os.environ.get("BENCH_LEDGER_PAUSE_MS", "2"))
PARTS = [
    ("parse", "the event's JSON into the handler's http::Request (lambda_http)"),
    ("bearer", "the Authorization header to a token"),
    ("verify", "the JWT: header, key, RS256 signature, claims"),
    ("store", "the store around the SDK call: keys in, items decoded"),
    ("sdk_build", "SDK: the BatchGetItem input into an HTTP request"),
    ("sdk_prepare", "SDK: retry loop, endpoint, identity"),
    ("sdk_sign", "SDK: SigV4"),
    ("sdk_wire", "SDK: the request out, the response's head in (connection included)"),
    ("sdk_parse", "SDK: the body read and parsed"),
    ("sdk_finish", "SDK: the attempt and the operation closed"),
    ("reply", "status's answer, its JSON"),
    ("respond", "the answer into API Gateway's response JSON"),
]
# lambda_http's own parts, which only the in-process run can time.
IN_PROCESS = ("parse", "respond")
NOTE = f"""\
- 9: {LEDGER_RUNS} runs, each with hello, status and bench/ledger as status's bootstrap under
  three fresh emulators: their first invokes, {WARMUP} warm-up invokes and {WARM_INVOKES} timed
  ones, the three invoked in turn (the same moments of the machine and of
  DynamoDB Local for all three); bench/ledger logs each invoke's parts from
  bearer to reply. lambda_http's parse and response document (status's and
  hello's) are timed in-process ({LEDGER_RUNS} processes of {WARM_INVOKES} calls {PAUSE_MS} ms apart), as
  the handler cannot see them. "warm" is the median over the runs of each
  part's p50, "first" the median of each run's first call (its client's
  first request: the connection is opened there). The SDK's request is split
  at its interceptor hooks (before execution, after serialization, before
  and after signing, after transmit, after deserialization, after
  execution). The runtime's share is hello's latency in the same loop less
  hello's own parse and response: the emulator's `next` and response round
  trips and lambda_http's glue around a handler, which no code of ours can
  shorten. The sum of the rows is set against status's own p50 and first
  invoke in the same loop; issue 16 asks for agreement within 10 %. Medians
  of parts need not add up to the median of the whole: the sum is a check,
  not an identity. The "over" rows take each function's warm p50 (section 2)
  less hello's p50 and its bare client's p50 (and its bcrypt work): what our
  code and lambda_http add to a call; issue 16's targets are for status
  (+0.15 ms warm, +1 ms on the first invoke, against hello's first invoke and
  the bare client's first call in section 1)."""


def measure(calls, floors):
    """The ledger's parts under the emulator and in-process."""
    return {"emulated": [emulated(calls, run) for run in range(LEDGER_RUNS)], "in_process": in_process(calls)}


# bench/ledger as status's bootstrap, the third subject next to hello and status.
LEDGER = "status, as bench/ledger"


def emulated(calls, run):
    """hello, status, and bench/ledger as status's bootstrap, each under a
    fresh emulator: their first invokes (in an order that turns with `run`),
    then warm series invoked in turn, so that the three see the same moments
    of the machine and of DynamoDB Local. The ledger's parts come from its
    bootstrap's log, a line per invoke."""
    bootstrap = os.path.join(TOOLS, "bench-ledger", "bootstrap")
    subjects = {HELLO: (HELLO, None), "status": ("status", None), LEDGER: ("status", bootstrap)}
    emulators = {}
    try:
        for name, (function, own_bootstrap) in subjects.items():
            emulators[name] = BenchEmulator(function, bootstrap=own_bootstrap)
        order = list(subjects)[run % 3:] + list(subjects)[:run % 3]
        first_invoke = {}
        for name in order:
            _, report = calls.invoke(emulators[name], subjects[name][0])
            first_invoke[name] = emulators[name].first_invoke_ms(report)
        for _ in range(WARMUP):
            for name in order:
                calls.invoke(emulators[name], subjects[name][0])
        durations = {name: [] for name in order}
        for _ in range(WARM_INVOKES):
            for name in order:
                durations[name].append(calls.invoke(emulators[name], subjects[name][0])[1])
        lines = [line[line.index("{"):] for line in list(emulators[LEDGER].lines) if '{"ledger":' in line]
    finally:
        for emulator in emulators.values():
            emulator.close()
    parts = [json.loads(line)["ledger"] for line in lines]
    if len(parts) != 1 + WARMUP + WARM_INVOKES:
        raise SystemExit(f"bench: the ledger's bootstrap logged {len(parts)} invokes, "
                         f"not {1 + WARMUP + WARM_INVOKES}")
    warm = parts[1 + WARMUP:]
    return {"first_invoke": first_invoke, "duration_p50": {name: median(d) for name, d in durations.items()},
            "first": parts[0], "p50": {part: median([invoke[part] for invoke in warm]) for part in parts[0]}}


def in_process(calls):
    """LEDGER_RUNS fresh processes, each timing status's calls for the main
    user, PAUSE_MS apart: lambda_http's parse and response document."""
    runs = []
    with tempfile.NamedTemporaryFile("w", suffix=".json") as event:
        # status's own event, with the main user's token: the ledger's first
        # call is then its process's first request, as a first invoke's is.
        json.dump(calls.status(), event)
        event.flush()
        for _ in range(LEDGER_RUNS):
            output = subprocess.run(
                [os.path.join(TOOLS, "bench-ledger", "bootstrap"), str(WARM_INVOKES), str(PAUSE_MS),
                 "events/status-no-token.json", event.name],
                check=True, capture_output=True, text=True, timeout=900).stdout
            # Its last line: the functions' log set-up may write before it.
            runs.append(json.loads(output.strip().splitlines()[-1]))
    return runs


def us(value):
    return f"{value:.0f} µs"


def ms_over(value):
    return f"{value:+.2f} ms"


def medians(runs, key):
    """Each part's median over the runs of run[key] (a part → µs map)."""
    return {part: median([run[key][part] for run in runs]) for part in runs[0][key]}


def whole(runs, key, name):
    """hello's, status's or the ledger bootstrap's median over the emulated
    runs of their REPORT p50s (`duration_p50`) or first invokes, in µs."""
    return median([run[key][name] for run in runs]) * 1000


def rows(table, results):
    emulated_runs, in_process_runs = results["ledger"]["emulated"], results["ledger"]["in_process"]
    warm = {**medians(in_process_runs, "p50"), **medians(emulated_runs, "p50")}
    first = {**medians(in_process_runs, "first"), **medians(emulated_runs, "first")}
    for part, what in PARTS:
        where = " (in-process)" if part in IN_PROCESS else ""
        table.row("9 ledger", f"status: {what}{where}", f"warm {us(warm[part])}", f"first {us(first[part])}",
                  "", "")
    ours_warm = sum(warm[part] for part, _ in PARTS)
    ours_first = sum(first[part] for part, _ in PARTS)
    table.row("9 ledger", "status: all of ours above (sum)", f"warm {us(ours_warm)}", f"first {us(ours_first)}",
              "", "")
    table.row("9 ledger", "status: the handler timed whole in-process (bearer to reply), for comparison",
              f"warm {us(warm['handle'])}", f"first {us(first['handle'])}", "", "")
    table.row("9 ledger", "bench/ledger as status's bootstrap, whole: REPORT p50 / first invoke (its own "
              "timing included)", f"warm {us(whole(emulated_runs, 'duration_p50', LEDGER))}",
              f"first {us(whole(emulated_runs, 'first_invoke', LEDGER))}", "", "")
    runtime_warm = whole(emulated_runs, "duration_p50", HELLO) - (warm["hello_parse"] + warm["hello_respond"])
    runtime_first = whole(emulated_runs, "first_invoke", HELLO) - (first["hello_parse"] + first["hello_respond"])
    table.row("9 ledger", "the runtime's share: hello's latency (same loop) less its own parse and response",
              f"warm {us(runtime_warm)}", f"first {us(runtime_first)}", "", "out of our hands")
    for label, ours, runtime, measured in (
            ("warm p50", ours_warm, runtime_warm, whole(emulated_runs, "duration_p50", "status")),
            ("first invoke", ours_first, runtime_first, whole(emulated_runs, "first_invoke", "status"))):
        total = ours + runtime
        table.row("9 ledger", f"status {label} (same loop): the ledger's sum / measured", us(total),
                  f"status {us(measured)}", f"{total / measured:.2f}×", "within 10 %")
    if "warm" not in results or "cold" not in results:
        table.row("9 ledger", "each function over its floor", "skipped: a partial run without sections 1 and 2",
                  "", "", "")
        return
    over_the_floor(table, results)


def over_the_floor(table, results):
    """Each function's warm p50 over hello's and its bare client's; status's
    and the authorizer's first invoke over hello's first and the bare
    client's first call. The authorizer's check is status's request, so
    status's bare client is its floor."""
    durations, rust = results["warm"]["durations"], results["warm"]["rust"]
    _, first_invoke, bare_first = results["cold"]
    hello_warm, hello_first = median(durations[HELLO]), median(first_invoke[HELLO])

    def over(f, floor, measured, target=""):
        table.row("9 ledger", f, ms_over(measured - floor), f"{measured:.2f} ms, floor {floor:.2f} ms", "", target)

    for f in FLOORED:
        work, shown = bcrypt_work(f, results)
        over(f"{f}: warm p50 over hello + its bare client{shown}", hello_warm + median(rust[f]) + work,
             median(durations[f]), "≤ +0.15 ms" if f == "status" else "")
    if AUTHORIZER in durations and "status" in rust:
        over(f"{AUTHORIZER}: warm p50 over hello + status's bare client", hello_warm + median(rust["status"]),
             median(durations[AUTHORIZER]))
    for f in ("status", AUTHORIZER):
        if f in first_invoke and "status" in bare_first:
            over(f"{f}: first invoke over hello's first + the bare client's first call",
                 hello_first + median(bare_first["status"]), median(first_invoke[f]),
                 "≤ +1 ms" if f == "status" else "")
