"""12. shared/verify (the token-auth-verify crate other Rust services use):
a warm `Verifier::verify` next to the service's own `Tokens::verify` (the
authorizer's check without its storage read), in microseconds, in one run."""

from .floors import run_tool
from .settings import RS256_RUNS
from .stats import median, ratio

TITLE = "the verifier crate's warm verify"
NOTE = f"""\
- 12: bench/rs256 times, in-process, p50 of {RS256_RUNS}, on one token of
  `Tokens::issue` (RS256, a 2048-bit key generated for the run):
  `token_auth_verify::Verifier::verify` warm (its JWKS fetched once from a
  loopback server before the timing, then cached; one current-thread
  `block_on` a call), which is what another service pays per request
  without the `revocation` feature, next to the service's `Tokens::verify`,
  the authorizer's token check before its DynamoDB read. With `revocation`
  a verify adds that read: one BatchGetItem, the authorizer's."""


def measure(calls, floors):
    return {what: run_tool("bench-rs256", what, RS256_RUNS) for what in ("verifier-verify", "rs256-verify")}


def rows(table, results):
    times = results["verifier"]
    ours, theirs = median(times["verifier-verify"]) * 1000, median(times["rs256-verify"]) * 1000
    table.row("12 verifier", f"warm verify (Verifier::verify), p50 of {len(times['verifier-verify'])}",
              f"{ours:.1f} µs", f"Tokens::verify {theirs:.1f} µs", ratio(ours, theirs), "")
