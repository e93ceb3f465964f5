"""14. Sign-in with another provider (issue 28) and the webhooks function
(issue 27): each function's INIT and first invoke next to hello's, its warm
p50 over its floor, and its zipped bootstrap next to hello's. Their DynamoDB
round trips are section 6's (the round-trips test counts every one of them).

What is called is what a series can repeat with every call the same: a
sign-in at the provider needs a browser's round trip through the provider
for each callback, and each of its codes is good once, so the callback and
the token exchange are timed on their refusals (an unknown state, an unknown
code: the state's or the code's one-time take, then the answer), and
delete-identity on an identity the caller does not have (the token check and
the list of identities, then 404). oauth-start and oauth-link are timed in
full (a state written, the provider's authorization URL answered; the
provider's discovery document is fetched on the first call of a process, so
into first invoke), identities in full. webhooks is invoked as Lambda's SQS
event source mapping calls it: one delivery of one event to the local
receiver (scripts/local/webhook-receiver.py, which checks its signature), its
whole work. The provider is the local mock (lib.sh's use_oidc_provider) and
the queue's receiver lib.sh's use_webhooks', both started by bench.sh."""

import collections
import os

from rie import load_event

from .calls import with_body
from .emulator import BenchEmulator
from .settings import COLD_RUNS, HELLO, TOOLS, WARM_INVOKES, WARMUP
from .size import zipped_mb
from .stats import median, ms, p50_p99, ratio

TITLE = "federation and webhooks"
RUNS = int(os.environ.get("BENCH_FEDERATION_RUNS", str(WARM_INVOKES)))

# The provider of lib.sh's use_oidc_provider.
PROVIDER = "mock"
# The floor of each call: the bare Rust client's same requests where
# bench/dynamo-floor has them (identities, and delete-identity's refusal: the
# token check and one Query, as `sessions`), else that many round trips of
# its one read (status's), an estimate: each of these calls sends one request
# per round trip. webhooks makes no DynamoDB request: hello's alone.
FLOORS = {"oauth-start": ("status", 2), "oauth-callback": ("status", 1),
          "oauth-token": ("status", 1), "oauth-link": ("status", 2),
          "identities": ("sessions", 2), "delete-identity": ("sessions", 2),
          "webhooks": (None, 0)}
NOTE = f"""\
- 14: oauth-start (a state opened, 302 to the mock provider), oauth-callback
  with an unknown state (400), oauth-token with an unknown code (400),
  oauth-link and identities (the main user's token), delete-identity of an
  identity the user does not have (404), and webhooks (one SQS message: one
  event delivered to the local receiver, which checks its signature). A
  callback and a token exchange that sign in need a fresh round trip through
  the provider for each call, so their full paths are not timed; their
  requests are counted in section 6. As in section 2, each function's {RUNS}
  invokes after {WARMUP} warm-up ones in one emulator, its floor's requests
  right after; "over" is p50 − hello's p50 − the floor: the bare Rust client's same requests for identities and
  delete-identity (as `sessions`: the token check and a Query), an estimate
  for the others (their round trips × the bare client's one-read p50 of
  status, taken right after; each sends one request per round trip), nothing for webhooks (no DynamoDB
  request; its POST to the receiver is in its time). INIT and first invoke:
  {COLD_RUNS} fresh emulators per function next to hello's; a first invoke's
  floor is hello's first plus the warm floor with its first read a fresh
  bare client's first (its connection opened)."""


def floor_of(function, warm_floor, first_read):
    """(warm floor, first invoke's floor) of `function`, in ms: the p50 of
    its floor's requests (measured right after its series), and for a first
    invoke with its first read a fresh client's first (its connection
    opened) instead of a warm one's."""
    op, trips = FLOORS[function]
    if op is None:
        return 0.0, 0.0
    measured = warm_floor[function]
    one_read = measured if op == "status" else measured / trips
    warm = measured * trips if op == "status" else measured
    return warm, first_read + warm - one_read


def source(event, serial):
    """The event from an address of its own: oauth-start counts its starts
    per address and hour; the series measures the call, not a 429."""
    event["requestContext"]["http"]["sourceIp"] = f"198.19.{serial // 250 % 256}.{serial % 250 + 1}"
    return event


def provider_event(name, token=None, path=None):
    event = load_event(name, token)
    event["pathParameters"]["provider"] = PROVIDER
    event["rawPath"] = event["requestContext"]["http"]["path"] = \
        path or event["rawPath"].replace("/nope/", f"/{PROVIDER}/")
    return event


class Events:
    def __init__(self, calls):
        self.calls = calls
        self.serial = 0

    def event(self, function):
        self.serial += 1
        token = self.calls.main.token
        if function == "oauth-start":
            return source(provider_event("oauth-start-unknown-provider.json"), self.serial)
        if function == "oauth-callback":
            return provider_event("oauth-callback-unknown-provider.json")
        if function == "oauth-token":
            return load_event("oauth-token-unknown-code.json")
        if function == "oauth-link":
            event = provider_event("oauth-link-no-token.json")
            event["headers"]["authorization"] = f"Bearer {token}"
            return with_body(event, {"redirect_to": "http://localhost:9000/account"})
        if function == "identities":
            return load_event("identities-ok.json", token)
        if function == "delete-identity":
            return load_event("delete-identity-unknown.json", token)
        if function == "webhooks":
            return load_event("webhooks-delivery.json")
        return load_event("status-no-token.json")  # hello


# What each call answers: a status code (webhooks: an SQS batch response, no status).
EXPECTED = {"oauth-start": 302, "oauth-callback": 400, "oauth-token": 400, "oauth-link": 200,
            "identities": 200, "delete-identity": 404, "webhooks": None, HELLO: 200}


def functions():
    return [f for f in FLOORS if os.path.exists(os.path.join(TOOLS, f, "bootstrap"))]


def measure(calls, floors):
    events = Events(calls)
    measured = functions()
    init, first = collections.defaultdict(list), collections.defaultdict(list)
    for _ in range(COLD_RUNS):
        for function in (HELLO, *measured):
            emulator = BenchEmulator(function)
            try:
                _, report_ms, _ = emulator.timed_invoke(events.event(function), EXPECTED[function])
                init[function].append(emulator.init_ms())
                first[function].append(emulator.first_invoke_ms(report_ms))
            finally:
                emulator.close()
    # As section 2: each function's series in one emulator, then its floor's
    # requests from the bare client right after, so both share the moment.
    series, warm_floor = collections.defaultdict(list), {}
    for function in (HELLO, *measured):
        emulator = BenchEmulator(function)
        try:
            for invoke in range(WARMUP + RUNS):
                _, duration, _ = emulator.timed_invoke(events.event(function), EXPECTED[function])
                if invoke >= WARMUP:
                    series[function].append(duration)
        finally:
            emulator.close()
        op = FLOORS.get(function, (None, 0))[0]
        if op:
            warm_floor[function] = median(floors.rust(op, RUNS)[1:])
    # A fresh bare client's first read, as many times as there were cold starts.
    first_read = median([floors.rust("status", 1)[0] for _ in range(COLD_RUNS)])
    zipped = {function: zipped_mb(function) for function in (*measured, HELLO)}
    return {"init": init, "first": first, "series": series, "warm_floor": warm_floor,
            "first_read": first_read, "zipped": zipped}


def rows(table, results):
    found = results["federation"]
    init, first, series = found["init"], found["first"], found["series"]
    warm_floor, first_read, zipped = found["warm_floor"], found["first_read"], found["zipped"]
    hello_warm, hello_first = median(series[HELLO]), median(first[HELLO])
    for function in [f for f in FLOORS if f in series]:
        floor, cold_floor = floor_of(function, warm_floor, first_read)
        estimated = FLOORS[function][0] == "status"
        table.row("14 federation", f"{function}: INIT median / max",
                  f"{ms(median(init[function]))} / {ms(max(init[function]))}",
                  f"hello {ms(median(init[HELLO]))} / {ms(max(init[HELLO]))}",
                  ratio(median(init[function]), median(init[HELLO])), "≤ 2×")
        table.row("14 federation", f"{function}: first invoke median; over hello's first + floor",
                  f"{ms(median(first[function]))}; {median(first[function]) - hello_first - cold_floor:+.2f} ms",
                  f"hello {ms(hello_first)} + floor {ms(cold_floor)}", "", "")
        p50 = median(series[function])
        table.row("14 federation", f"{function}: REPORT Duration p50 / p99; over hello + floor",
                  f"{p50_p99(series[function])}; {p50 - hello_warm - floor:+.2f} ms",
                  f"hello {ms(hello_warm)} + floor {ms(floor)}" + (" (est.)" if estimated else ""),
                  "", "≤ +0.34 ms")
        table.row("14 federation", f"{function}: zipped bootstrap", f"{zipped[function]:.2f} MB",
                  f"hello {zipped[HELLO]:.2f} MB", ratio(zipped[function], zipped[HELLO]), "≤ 4 MB")
