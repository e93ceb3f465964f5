"""3. The bcrypt share: login and password change next to bcrypt itself; and
the calls whose timing must not tell who has an account: a login of an
unknown email next to a known one, and forgot-password likewise."""

from .floors import run_tool
from .settings import BCRYPT_COST, BCRYPT_RUNS, BCRYPT_VERIFIES, TARGETS
from .stats import median, ms, ratio

TITLE = "bcrypt verify"
NOTE = """\
- 3: the login series alternates known and unknown emails in one warm process;
  bench/bcrypt-verify times `bcrypt::verify` (same crate) in-process. A password
  change verifies the current password and hashes the new one: two runs.
  forgot-password's series alternates, likewise, fresh addresses with an
  account and fresh addresses without (its answer is the same 202; only the
  code and its mail are written for the first)."""


def measure(calls, floors):
    """Each verify's ms, in-process at the functions' cost."""
    return run_tool("bench-bcrypt-verify", BCRYPT_COST, BCRYPT_VERIFIES)


def rows(table, results):
    bcrypt, durations = results["bcrypt"], results.get("warm", {}).get("durations", {})
    if not {"login", "login-unknown", "password"} <= durations.keys():
        table.row("3 bcrypt", f"one bcrypt verify (cost {BCRYPT_COST}), in-process", ms(median(bcrypt)),
                  "login and password not measured in this partial run", "", "")
        return
    login, unknown = median(durations["login"]), median(durations["login-unknown"])
    table.row("3 bcrypt", f"login p50 (cost {BCRYPT_COST})", ms(login),
              f"one bcrypt verify {ms(median(bcrypt))} (in-process, p50 of {len(bcrypt)})",
              ratio(login, median(bcrypt)), TARGETS["bcrypt"])
    table.row("3 bcrypt", "login unknown email p50", ms(unknown), f"known email {ms(login)}",
              ratio(unknown, login), TARGETS["unknown"])
    if "forgot-unknown" in durations:
        known, unknown = median(durations["forgot-password"]), median(durations["forgot-unknown"])
        table.row("3 bcrypt", "forgot-password unknown email p50", ms(unknown), f"known email {ms(known)}",
                  ratio(unknown, known), TARGETS["unknown"])
    password, runs = median(durations["password"]), BCRYPT_RUNS["password"]
    table.row("3 bcrypt", f"password p50 (cost {BCRYPT_COST})", ms(password),
              f"{runs} bcrypt verifies {ms(runs * median(bcrypt))}",
              ratio(password, runs * median(bcrypt)), "")
