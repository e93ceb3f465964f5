"""6. DynamoDB requests per call, as the round-trips test counts them.

The one way the project counts requests is that test (in tests/): an SDK
interceptor on the functions' own DynamoDB store records every request sent,
retries included, and the test asserts each call's count exactly. The bench
runs it over this run's DynamoDB Local and takes the table it prints: a header
row `| call | DynamoDB requests | … | operations |` (read by column name, so a
column added there needs no change here; `round trips` is shown if present),
then a row per call."""

import collections
import os
import re
import subprocess
import sys

from .settings import TARGETS

TITLE = "DynamoDB round trips"
TEST = "each_call_costs_the_dynamodb_requests_it_is_designed_to"
COMMAND = ["cargo", "test", "--locked", "-p", "api-tests", "--test", "round_trips", TEST,
           "--", "--nocapture"]
NOTE = f"""\
- 6: the table the round-trips test prints (`{' '.join(COMMAND)}`):
  each request an SDK interceptor sees leave the functions' own store, retries
  included, in-process over this run's DynamoDB Local (a debug build, at bcrypt
  cost 4: neither changes a count). The test asserts each count exactly; in
  its round trips, requests in flight together count as one."""


def measure(calls, floors):
    """The table's rows (dicts by column name) in the test's order, or the reason
    there are none: a failing test prints no table, and the measures before
    this one are worth keeping."""
    # The counts do not depend on the bcrypt cost; the cheapest keeps the
    # test's debug-build hashing short.
    env = dict(os.environ, BCRYPT_COST="4")
    run = subprocess.run(COMMAND, env=env, capture_output=True, text=True, timeout=1800)
    output = run.stdout + run.stderr
    rows = table_rows(output)
    if run.returncode == 0 and rows:
        return rows
    print(f"bench: the round-trips test failed or printed no table:\n{output[-3000:]}",
          file=sys.stderr)
    # Its assertion, if it made one, says which call.
    failed = re.search(r"^assertion .*?: (.*)$", output, re.M)
    return failed.group(1) if failed else f"exit status {run.returncode}"


def table_rows(output):
    """The rows of the first table in `output` whose header starts `| call |`."""
    lines = iter(output.splitlines())
    for line in lines:
        if line.startswith("| call |"):
            columns = cells(line)
            break
    else:
        return []
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        if not line.startswith("|---"):
            rows.append(dict(zip(columns, cells(line))))
    return rows


def counted(number, noun):
    return f"{number} {noun}" + ("" if number == "1" else "s")


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def rows(table, results):
    if isinstance(results["trips"], str):
        table.row("6 trips", "DynamoDB requests per call",
                  f"skipped: the round-trips test failed ({results['trips']})", "", "", "")
        return
    for row in results["trips"]:
        operations = [op for op in row.get("operations", "").split(", ") if op]
        ours = ", ".join(f"{op} ×{n}" for op, n in sorted(collections.Counter(operations).items()))
        reference = counted(row["DynamoDB requests"], "request")
        if "round trips" in row:
            reference += f" in {counted(row['round trips'], 'round trip')}"
        table.row("6 trips", f"{row['call']}: DynamoDB requests per call", ours or "none", reference,
                  "", TARGETS["trips"].get(row["call"], ""))
