"""9. The latency ledger (issue 16): one warm status call and one first call
split into their parts, each measured, and the parts set against the whole
that section 2 (warm) and section 1 (first invoke) measured in the same run.

bench/ledger times the parts in-process, through the functions' own code and
settings, over this run's DynamoDB Local: the event's parse into a request,
the bearer, the JWT's verification, the token check's DynamoDB request split
at the SDK's interceptor hooks, the store's own work around it, the reply and
the response document. What it cannot time in-process is the runtime's own
share: the emulator's round trips (the event out of `next`, the response
into it). That share is taken from hello's latency in the same run, less
hello's own parse and response (which bench/ledger times too): a ledger of
parts measured, with one remainder that is named, not guessed."""

import json
import os
import subprocess
import tempfile

from .settings import COLD_RUNS, HELLO, TOOLS, WARM_INVOKES
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
NOTE = f"""\
- 9: bench/ledger, {LEDGER_RUNS} processes of {WARM_INVOKES} status calls each, {PAUSE_MS} ms apart, in-process
  over this run's DynamoDB Local with the functions' own code and settings;
  "warm" is the median over the processes of each part's p50, "first" the
  median of each process's first call (its client's first request: the
  connection is opened there). The SDK's request is split at its interceptor
  hooks (before execution, after serialization, before and after signing,
  after transmit, after deserialization, after execution). The runtime's
  share is hello's latency (section 2's p50; section 1's first invoke) less
  hello's own event parse and response, timed by bench/ledger on hello's
  event: the emulator's `next` and response round trips, and lambda_http's
  glue around a handler, which no code of ours can shorten. The sum of the
  rows is set against status's own p50 and first invoke from sections 2
  and 1 of this run; issue 16 asks for agreement within 10 %. Medians of
  parts need not add up to the median of the whole: the sum is a check, not
  an identity."""


def measure(calls, floors):
    """LEDGER_RUNS fresh processes, each timing status's calls for the main
    user, PAUSE_MS apart."""
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


def rows(table, results):
    runs = results["ledger"]
    warm = {part: median([run["p50"][part] for run in runs]) for part in runs[0]["p50"]}
    first = {part: median([run["first"][part] for run in runs]) for part in runs[0]["first"]}
    ours_warm = sum(warm[part] for part, _ in PARTS)
    ours_first = sum(first[part] for part, _ in PARTS)
    for part, what in PARTS:
        table.row("9 ledger", f"status: {what}", f"warm {us(warm[part])}", f"first {us(first[part])}", "", "")
    table.row("9 ledger", "status: all of ours above (sum)", f"warm {us(ours_warm)}", f"first {us(ours_first)}",
              "", "")
    table.row("9 ledger", "status: the handler timed whole (bearer to reply), for comparison",
              f"warm {us(warm['handle'])}", f"first {us(first['handle'])}", "", "")
    if "warm" not in results or "cold" not in results:
        table.row("9 ledger", "the runtime's share and the check against status",
                  "skipped: a partial run without sections 1 and 2", "", "", "")
        return
    durations = results["warm"]["durations"]
    _, first_invoke, _ = results["cold"]
    glue = warm["hello_parse"] + warm["hello_respond"]
    runtime_warm = median(durations[HELLO]) * 1000 - glue
    runtime_first = median(first_invoke[HELLO]) * 1000 - (first["hello_parse"] + first["hello_respond"])
    table.row("9 ledger", "the runtime's share: hello's latency less its own parse and response",
              f"warm {us(runtime_warm)}", f"first {us(runtime_first)}", "", "out of our hands")
    for label, ours, runtime, measured in (
            ("warm p50", ours_warm, runtime_warm, median(durations["status"]) * 1000),
            ("first invoke", ours_first, runtime_first, median(first_invoke["status"]) * 1000)):
        total = ours + runtime
        table.row("9 ledger", f"status {label}: the ledger's sum / measured", us(total),
                  f"status {us(measured)}", f"{total / measured:.2f}×", "within 10 %")
