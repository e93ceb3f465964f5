"""The table, with the machine and the commit, printed and written to
bench/results.md."""

import os
import platform
import subprocess
import time

from .settings import RESULTS

HEADER = """\
| § | measure | ours | reference (same run) | ratio | target |
|---|---|---|---|---|---|"""
NOTES_BEFORE = """\
Notes:
- All numbers come from one run on one machine, side by side; the machine is
  shared, so compare the ratios, not the absolute values, between runs.
- Before anything is timed, each endpoint's DynamoDB requests are sent
  BENCH_DATABASE_WARMUP times (1000) from the bare client: DynamoDB Local is a
  JVM whose first thousands of requests are slower while its JIT compiles
  them, which a section timed early would book on the functions (real
  DynamoDB has no such phase)."""
NOTES_AFTER = """\
- Reproduce with `make bench` (BENCH_COLD_RUNS, BENCH_WARM_INVOKES,
  BENCH_LOAD_SECONDS, BENCH_BCRYPT_VERIFIES, BENCH_RS256_RUNS override the counts;
  BENCH_FUNCTIONS=a,b measures only those functions, and status, login and password)."""


class Table:
    def __init__(self):
        self.rows = []

    def row(self, section, what, ours, reference, ratio, target=""):
        self.rows.append(f"| {section} | {what} | {ours} | {reference} | {ratio} | {target} |")

    def __str__(self):
        return "\n".join([HEADER, *self.rows])


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
    return (f"{len(os.sched_getaffinity(0))} CPUs ({model}), {platform.machine()}, "
            f"commit {commit}{' with uncommitted changes' if dirty else ''}")


def show(table, notes, title="make bench"):
    """Prints the report; returns its text."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    text = (f"# {title}\n\n{machine()}, {when}, load average {load}\n\n{table}\n\n"
            + "\n".join([NOTES_BEFORE, *notes, NOTES_AFTER]) + "\n")
    print(text)
    return text


def write(table, notes):
    """Prints the report and writes it to bench/results.md."""
    text = show(table, notes)
    with open(RESULTS, "w") as f:
        f.write(text)
    return RESULTS
