"""6. DynamoDB requests per call, as the round-trips test counts them.

The one way the project counts requests is that test (in tests/): an SDK
interceptor on the functions' own DynamoDB store records every request sent,
retries included, and the test asserts each call's count exactly. The bench
runs it over this run's DynamoDB Local and takes the rows of the table it
prints, which are `| call | requests | operation, operation, … |`."""

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
ROW = re.compile(r"^\| (?P<call>[^|]+?) \| (?P<count>\d+) \| (?P<operations>[^|]*?) ?\|$", re.M)
NOTE = f"""\
- 6: the table the round-trips test prints (`{' '.join(COMMAND)}`):
  each request an SDK interceptor sees leave the functions' own store, retries
  included, in-process over this run's DynamoDB Local (a debug build, at bcrypt
  cost 4: neither changes a count). The test asserts each count exactly."""


def measure(calls, floors):
    """[(call, count, [operation, …])] in the test's order, or the reason
    there are none: a failing test prints no table, and the measures before
    this one are worth keeping."""
    # The counts do not depend on the bcrypt cost; the cheapest keeps the
    # test's debug-build hashing short.
    env = dict(os.environ, BCRYPT_COST="4")
    run = subprocess.run(COMMAND, env=env, capture_output=True, text=True, timeout=1800)
    output = run.stdout + run.stderr
    rows = [(m["call"], int(m["count"]), [op for op in m["operations"].split(", ") if op])
            for m in ROW.finditer(output)]
    if run.returncode == 0 and rows:
        return rows
    print(f"bench: the round-trips test failed or printed no table:\n{output[-3000:]}",
          file=sys.stderr)
    # Its assertion, if it made one, says which call.
    failed = re.search(r"^assertion .*?: (.*)$", output, re.M)
    return failed.group(1) if failed else f"exit status {run.returncode}"


def rows(table, results):
    if isinstance(results["trips"], str):
        table.row("6 trips", "DynamoDB requests per call",
                  f"skipped: the round-trips test failed ({results['trips']})", "", "", "")
        return
    for call, count, operations in results["trips"]:
        per_operation = collections.Counter(operations)
        ours = ", ".join(f"{op} ×{n}" for op, n in sorted(per_operation.items())) or "none"
        table.row("6 trips", f"{call}: DynamoDB requests per call", ours, f"{count} in all", "",
                  TARGETS["trips"].get(call, ""))
