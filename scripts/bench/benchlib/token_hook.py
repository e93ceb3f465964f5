"""11. The token hook (issue 26): login and refresh with a token hook set,
next to the same functions without one, in one loop.

The hook is scripts/local/token-hook.py on a free port (Python's threaded
HTTP server, which checks each request's signature with the standardwebhooks
package and answers a small claims object): what a team's own hook costs
is its own business, so the rows show what the service adds around it
(sign the request, one POST over a warm connection, parse and check the
answer; login also reads the profile it sends) against the hook's own
answer time measured by a client in the same run."""

import collections
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from rie import load_event

from .calls import register, token_claims, with_body
from .emulator import BenchEmulator
from .settings import PASSWORD
from .stats import median, ms, p50_p99, ratio

TITLE = "token hook"
RUNS = int(os.environ.get("BENCH_HOOK_RUNS", "50"))
SECRET = "whsec_YmVuY2gtdG9rZW4taG9vay1zZWNyZXQtMzItYnl0ZXM="
NOTE = f"""\
- 11: {RUNS} rounds after 3 warm-up ones, each a login and a refresh by an
  emulator with `TOKEN_HOOK_URL` set and by one without, in turn in one loop,
  and one signed POST to the hook from this script (urllib, a new connection
  each time: the hook's own answer time, an upper bound on what the function
  waits for). The hook is scripts/local/token-hook.py (Python's threaded HTTP
  server, which verifies each signature with the standardwebhooks package)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hook():
    port = free_port()
    process = subprocess.Popen([".tools/venv/bin/python", "scripts/local/token-hook.py", str(port), SECRET],
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("bench: the token hook did not start")


def signed_post(url):
    """One POST signed as the service signs it: the hook's own answer time."""
    from standardwebhooks.webhooks import Webhook
    import datetime
    body = json.dumps({"type": "token.issuing", "timestamp": "", "data": {
        "user_id": "u", "email": "e", "roles": [], "user_metadata": {}, "app_metadata": {}, "amr": ["pwd"]}})
    now = datetime.datetime.now(datetime.timezone.utc)
    headers = {"webhook-id": "msg_bench", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(SECRET).sign("msg_bench", now, body),
               "content-type": "application/json"}
    start = time.perf_counter()
    urllib.request.urlopen(urllib.request.Request(f"{url}/claims", body.encode(), headers), timeout=2).read()
    return (time.perf_counter() - start) * 1000


def measure(calls, floors):
    process, url = start_hook()
    hooked_env = {"TOKEN_HOOK_URL": f"{url}/claims", "TOKEN_HOOK_SECRET": SECRET}
    emulators = {}
    try:
        for name in ("login", "refresh"):
            emulators[name] = BenchEmulator(name)
            emulators[f"{name} + hook"] = BenchEmulator(name, env=hooked_env)
        registrar = BenchEmulator("register")
        try:
            user = register(registrar, "hook")
        finally:
            registrar.close()
        refresh_tokens = {"refresh": user.refresh_token, "refresh + hook": user.refresh_token}
        # Each chain of refreshes needs its own session.
        login = with_body(load_event("login-ok.json"), {"email": user.email, "password": PASSWORD})
        refresh_tokens["refresh + hook"] = json.loads(emulators["login"].invoke(login)["body"])["refresh_token"]
        series = collections.defaultdict(list)
        for round_ in range(3 + RUNS):
            timed = {}
            for name in ("login", "login + hook"):
                timed[name] = emulators[name].timed_invoke(login, 200)[1]
            for name in ("refresh", "refresh + hook"):
                event = load_event("refresh-ok.json", refresh_token=refresh_tokens[name])
                _, duration, response = emulators[name].timed_invoke(event, 200)
                refresh_tokens[name] = json.loads(response["body"])["refresh_token"]
                timed[name] = duration
            timed["hook alone"] = signed_post(url)
            if round_ >= 3:
                for key, duration in timed.items():
                    series[key].append(duration)
        if "claims" not in token_claims(json.loads(response["body"])["auth_token"]):
            sys.exit("bench: the hooked refresh's token has no claims from the hook")
        return series
    finally:
        for emulator in emulators.values():
            emulator.close()
        process.kill()


def rows(table, results):
    series = results["token_hook"]
    p50 = {name: median(values) for name, values in series.items()}
    for name in ("login", "refresh"):
        hooked = f"{name} + hook"
        added = p50[hooked] - p50[name]
        table.row("11 hook", f"{hooked}: REPORT Duration p50 / p99", p50_p99(series[hooked]),
                  f"{name} {p50_p99(series[name])}", ratio(p50[hooked], p50[name]), "")
        table.row("11 hook", f"{name}: the hook's cost (p50 with − without)", ms(added),
                  f"the hook alone {ms(p50['hook alone'])}", ratio(added, p50["hook alone"]),
                  # Login's bcrypt (≈ 230 ms at cost 12) drowns a millisecond.
                  "≤ 1.5×" if name == "refresh" else "")
