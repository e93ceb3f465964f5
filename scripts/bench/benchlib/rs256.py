"""7. RS256: the access tokens' sign and verify times in-process, next to
HS256 (what they cost before RS256); and the p50 of the calls that sign a
token (register, login, refresh) next to the run's before RS256."""

import re
import subprocess

from .floors import run_tool
from .settings import BCRYPT_RUNS, RESULTS, RS256_RUNS, TARGETS
from .stats import median, ms, ratio

TITLE = "RS256 sign and verify"
SIGNING_CALLS = ("register", "login", "refresh")
# The last results committed before access tokens became RS256 (issue 12's
# reference: "against the run before the change").
BEFORE_RS256 = "d6a38c1"
NOTE = f"""\
- 7: bench/rs256 times, in-process, p50 of {RS256_RUNS}: `auth::token::Tokens::issue`
  (claims, a new jti, RS256 with a 2048-bit key generated for the run) and
  `Tokens::verify` (header, key lookup, signature, claims), the code the
  functions run; next to them HS256 through the same jsonwebtoken with the same
  claims and checks, which is how tokens were signed before. The growth rows
  set this run's warm p50 of the calls that sign a token against the
  {RESULTS} committed before RS256 (at {BEFORE_RS256}), which issue 12's
  budget is set against;
  a shared machine drifts between runs, so for register and login (bcrypt-bound)
  the change net of the change in bcrypt's p50 is shown too."""


def committed_results():
    """The results committed before RS256: (its machine/commit line, its
    text), or None."""
    shown = subprocess.run(["git", "show", f"{BEFORE_RS256}:{RESULTS}"], capture_output=True, text=True)
    if shown.returncode != 0:
        return None
    lines = shown.stdout.splitlines()
    return (lines[2] if len(lines) > 2 else "?"), shown.stdout


def previous_p50s(text):
    """From a results table: each signing call's warm p50 and bcrypt's p50 (ms)."""
    found = {}
    for call in SIGNING_CALLS:
        row = re.search(rf"^\| 2 warm \| {call}: REPORT Duration p50 / p99 \| ([\d.]+) ms", text, re.M)
        if row:
            found[call] = float(row.group(1))
    bcrypt = re.search(r"one bcrypt verify ([\d.]+) ms", text)
    if bcrypt:
        found["bcrypt"] = float(bcrypt.group(1))
    return found


def measure(calls, floors):
    times = {what: run_tool("bench-rs256", what, RS256_RUNS)
             for what in ("rs256-sign", "rs256-verify", "hs256-sign", "hs256-verify")}
    return times, committed_results()


def rows(table, results):
    times, committed = results["rs256"]
    for step, function in (("sign", "Tokens::issue"), ("verify", "Tokens::verify")):
        rs, hs = median(times[f"rs256-{step}"]), median(times[f"hs256-{step}"])
        table.row("7 rs256", f"{step} ({function}), p50 of {len(times[f'rs256-{step}'])}",
                  f"RS256 {rs:.3f} ms", f"HS256 {hs:.3f} ms", ratio(rs, hs), "")
    if committed is None or "warm" not in results or "bcrypt" not in results:
        why = f"no committed {RESULTS}" if committed is None else "a partial run without warm and bcrypt"
        table.row("7 rs256", "register, login, refresh p50 growth", f"skipped: {why}", "", "", "")
        return
    heading, text = committed
    before = previous_p50s(text)
    durations, bcrypt_now = results["warm"]["durations"], median(results["bcrypt"])
    commit = re.search(r"commit (\w+)", heading)
    source = f"the run before RS256, at {commit.group(1) if commit else '?'}"
    for call in (call for call in SIGNING_CALLS if call in durations):
        now = median(durations[call])
        if call not in before:
            table.row("7 rs256", f"{call}: warm p50 growth", ms(now), f"no {call} row in the {source}", "", "")
            continue
        growth = f"{now - before[call]:+.2f} ms"
        reference = f"{source}: {ms(before[call])}"
        runs = BCRYPT_RUNS.get(call, 0)
        if runs and "bcrypt" in before:
            net = now - before[call] - runs * (bcrypt_now - before["bcrypt"])
            reference += f"; bcrypt p50 then {ms(before['bcrypt'])}, now {ms(bcrypt_now)}"
            growth += f" ({net:+.2f} ms net of bcrypt)"
        table.row("7 rs256", f"{call}: warm p50 growth", ms(now), reference, growth, TARGETS["growth"])
