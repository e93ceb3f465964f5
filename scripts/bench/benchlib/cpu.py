"""15. CPU per status call (issue 29, target 5): what Lambda bills at small
memory sizes, where a function's share of a vCPU makes every 0.1 ms of CPU
about 0.7 ms of billed duration (256 MB: 256/1769 of a vCPU).

Two measures of one status bootstrap, the release build with its symbols
kept (Cargo.toml's `cpu-bench` profile: the same code, named), under the
emulator as status runs, with a valid token whose check reads DynamoDB Local:

- CPU: user + system time of the bootstrap process over CPU_CALLS calls
  after a warm-up, from /proc/<pid>/stat (utime + stime, clock ticks) and
  /proc/<pid>/task/*/schedstat (time on CPU in ns, every thread), divided by
  the calls. The calls come one after another, as a Lambda sandbox gets them.
- Instructions: the same bootstrap under `valgrind --tool=callgrind`, twice,
  with WARM + CALLS and WARM + 2 × CALLS calls: the difference of the two
  runs is CALLS calls with no INIT and no warm-up in it, which is repeatable
  where time on this machine is not. Split by the inclusive cost
  (`callgrind_annotate --inclusive=yes`) of the functions each part of the
  ledger runs in (PARTS); "runtime and the rest" is the total less the parts.

Standalone: scripts/bench/cpu.sh (`make bench-cpu`); in `make bench` as
section 15 (BENCH_SECTIONS=cpu)."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from .emulator import BenchEmulator

TITLE = "CPU per status call"
CPU_CALLS = int(os.environ.get("BENCH_CPU_CALLS", "2000"))
CALLGRIND_CALLS = int(os.environ.get("BENCH_CALLGRIND_CALLS", "100"))
WARM = int(os.environ.get("BENCH_CPU_WARMUP", "200"))  # connection, allocator, DynamoDB Local's JIT
CALLGRIND_WARM = 20
# The cpu-bench profile's status, copied next to the bench's bootstraps by
# bench.sh and cpu.sh (a shared target directory could swap it mid-run).
BOOTSTRAP = os.environ.get("BENCH_CPU_BOOTSTRAP", "target/cpu-bench/status")
TICKS = os.sysconf("SC_CLK_TCK")

# The ledger's parts: each the inclusive cost of the functions it runs in
# (regular expressions over callgrind's demangled names, hash suffixes
# dropped), less the parts named after them that run inside it. Names are
# matched whole: a recursive call's (`'2`) is inside its first.
# What no part covers is "runtime and the rest": lambda_runtime's loop (its
# two requests to the runtime API, the invoke's context and span, the answer
# serialized), tokio, and hyper's connection tasks of both clients.
PARTS = [
    ("event parse", "the invoke's JSON into an http::Request (lambda_http, serde_json)",
     [r"lambda_runtime::deserializer::deserialize",
      r"lambda_http::request::<impl core::convert::From<lambda_http::request::LambdaRequest> for .*>::from"], []),
    ("bearer", "the Authorization header to a token", [r"auth::http::request::bearer_token"], []),
    ("verify", "the JWT: header, key, RS256 signature, claims (jsonwebtoken, aws-lc)",
     [r"auth::tokens::access::Tokens::verify"], []),
    ("SDK build", "the BatchGetItem input into an HTTP request",
     [r"<aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemRequestSerializer as .*>::serialize_input"], []),
    ("SDK sign", "SigV4 (aws-sigv4), identity included",
     [r"aws_smithy_runtime::client::orchestrator::auth::sign_request"], []),
    ("SDK parse", "the response body into BatchGetItemOutput",
     [r"<aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemResponseDeserializer as .*>::deserialize_nonstreaming_with_config"], []),
    ("SDK send and the rest", "the orchestrator: config, interceptors, endpoint, retry and timeouts, the request out and the response in",
     [r"<aws_smithy_runtime::client::timeout::MaybeTimeoutFuture<InnerFuture> as core::future::future::Future>::poll"],
     ["SDK build", "SDK sign", "SDK parse"]),
    ("store", "ours around the SDK call: keys in, items decoded",
     [r"auth::store::dynamo::DynamoStore::batch_read::\{\{closure\}\}"],
     ["SDK build", "SDK sign", "SDK parse", "SDK send and the rest"]),
    ("reply", "status's answer and its response",
     [r"auth::endpoint::status::status_reply",
      r"<http::response::Response<B> as lambda_http::response::IntoResponse>::into_response::\{\{closure\}\}"], []),
]


def bootstrap_cpu(pid):
    """(utime, stime, time on CPU of all threads), in s, of process `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    on_cpu = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                on_cpu += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended in between
    return utime / TICKS, stime / TICKS, on_cpu / 1e9


def call(emulator, event):
    response = emulator.invoke(event)
    if response.get("statusCode") != 200:
        sys.exit(f"bench: status answered {response.get('statusCode')}: {response.get('body')}")


def cpu_per_call(event):
    """ms of CPU per call (utime + stime, then schedstat) over CPU_CALLS calls."""
    emulator = BenchEmulator("status", bootstrap=BOOTSTRAP)
    try:
        for _ in range(WARM):
            call(emulator, event)
        pid = emulator.bootstrap_pid()
        before = bootstrap_cpu(pid)
        started = time.monotonic()
        for _ in range(CPU_CALLS):
            call(emulator, event)
        wall = time.monotonic() - started
        after = bootstrap_cpu(pid)
    finally:
        emulator.close()
    user, system, on_cpu = ((b - a) * 1000 / CPU_CALLS for a, b in zip(before, after))
    return {"stat_ms": user + system, "user_ms": user, "system_ms": system,
            "schedstat_ms": on_cpu, "wall_ms": wall * 1000 / CPU_CALLS}


def callgrind_run(event, calls, directory):
    """Inclusive instruction counts by function of one bootstrap under
    callgrind that served `calls` calls, and its total."""
    out = os.path.join(directory, f"callgrind.{calls}")
    wrapper = os.path.join(directory, f"bootstrap-{calls}")
    with open(wrapper, "w") as f:
        # The emulator runs the wrapper as the function's bootstrap; valgrind
        # keeps its pid (it is the emulator's child the bench stops).
        f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={out} "
                f"--dump-instr=no --compress-strings=no {os.path.abspath(BOOTSTRAP)} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    emulator = BenchEmulator("status", bootstrap=wrapper)
    try:
        for _ in range(calls):
            call(emulator, event)
        pid = emulator.bootstrap_pid()
        # SIGTERM to the bootstrap itself: valgrind writes its profile as the
        # process ends, which the emulator's own shutdown might not wait for.
        os.kill(pid, 15)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.1)
    finally:
        emulator.close()
    if not os.path.exists(out):
        sys.exit(f"bench: callgrind wrote no profile ({out})")
    return inclusive(out)


def inclusive(profile):
    """{function: inclusive Ir} and the total, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", profile],
                          check=True, capture_output=True, text=True).stdout
    total, functions = 0, {}
    for line in text.splitlines():
        # "Ir (share) file:function [object]"; the file is "???" without debug info.
        found = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\?\?\?|\S+?\.(?:rs|c|h|S)):(.+?)(?: \[.*\])?$", line)
        if "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
        elif found:
            name = re.sub(r"::h[0-9a-f]{16}$", "", found.group(2).strip())
            cost = int(found.group(1).replace(",", ""))
            functions[name] = max(functions.get(name, 0), cost)
    return total, functions


def parts_of(total, functions):
    """Each part's instructions, and the rest."""
    split = {}
    for name, _, patterns, inside in PARTS:
        matched = [f for f in functions if any(re.fullmatch(p, f) for p in patterns)]
        split[name] = sum(functions[f] for f in matched) - sum(split[part] for part in inside)
    split["runtime and the rest"] = total - sum(split.values())
    return split


def instructions_per_call(event):
    directory = tempfile.mkdtemp(prefix="bench-callgrind-")
    try:
        short_total, short = callgrind_run(event, CALLGRIND_WARM + CALLGRIND_CALLS, directory)
        long_total, long = callgrind_run(event, CALLGRIND_WARM + 2 * CALLGRIND_CALLS, directory)
        if os.environ.get("BENCH_CPU_KEEP"):
            kept = os.environ["BENCH_CPU_KEEP"]
            os.makedirs(kept, exist_ok=True)
            for path in glob.glob(os.path.join(directory, "callgrind.*")):
                shutil.copy(path, kept)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    a, b = parts_of(short_total, short), parts_of(long_total, long)
    per_call = {part: (b[part] - a[part]) / CALLGRIND_CALLS for part in a}
    per_call["total"] = (long_total - short_total) / CALLGRIND_CALLS
    return per_call


def measure(calls, floors):
    return measure_with(calls.status())


def measure_with(event):
    return {"cpu": cpu_per_call(event), "instructions": instructions_per_call(event)}


NOTE = f"""\
- 15: status's release build with symbols (profile cpu-bench) under the emulator,
  a valid token, DynamoDB Local: CPU of the bootstrap process (utime + stime
  from /proc/<pid>/stat; on-CPU ns from schedstat) over {CPU_CALLS} calls after
  {WARM}; instructions per call from two callgrind runs ({CALLGRIND_WARM} + {CALLGRIND_CALLS} and
  {CALLGRIND_WARM} + {2 * CALLGRIND_CALLS} calls), their difference over {CALLGRIND_CALLS}, split by inclusive
  cost of the parts' functions (benchlib/cpu.py's PARTS)."""


def rows(table, results):
    result = results["cpu"]
    cpu, instructions = result["cpu"], result["instructions"]
    table.row("15 cpu", f"status: CPU per call (utime+stime; schedstat), {CPU_CALLS} calls",
              f"{cpu['stat_ms']:.3f} ms; {cpu['schedstat_ms']:.3f} ms",
              f"user {cpu['user_ms']:.3f} ms, system {cpu['system_ms']:.3f} ms; wall {cpu['wall_ms']:.2f} ms a call",
              "", "")
    table.row("15 cpu", "status: instructions per call (callgrind)", f"{instructions['total']:,.0f}", "", "", "")
    for part, count in instructions.items():
        if part != "total":
            table.row("15 cpu", f"status instructions: {part}", f"{count:,.0f}", "",
                      f"{count / instructions['total']:.0%}", "")


def main():
    """scripts/bench/cpu.sh: one user registered through REGISTER_BOOTSTRAP,
    then the two measures, printed as a table and as JSON (BENCH_CPU_JSON)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "local"))
    from rie import load_event
    from .calls import register
    emulator = BenchEmulator("register", bootstrap=os.environ["REGISTER_BOOTSTRAP"])
    try:
        user = register(emulator, "cpu")
    finally:
        emulator.close()
    results = {"cpu": measure_with(load_event("status-ok.json", user.token))}
    from .report import Table
    table = Table()
    rows(table, results)
    print(table)
    if os.environ.get("BENCH_CPU_JSON"):
        with open(os.environ["BENCH_CPU_JSON"], "w") as f:
            json.dump(results["cpu"], f, indent=1)
