"""10. Two-step sign-in (issue 23): a login with TOTP on (the challenged
login, then the code) next to a plain login, in one loop; the factor's calls
next to status and login; and each second-factor function's INIT next to
hello's.

Set up through the functions themselves (nothing of the factor is written
by hand but one thing): a user registered at the deployed bcrypt cost, its
TOTP enrolled and confirmed with a code computed here (RFC 6238, as an
authenticator app does). A code is accepted once per step, so a series of
sign-ins with one key would be refused after the first in each 30 s: before
each timed login-mfa call, untimed, the factor's `last_step` is set back to
0 (one UpdateItem), so that every call of the series is a success."""

import base64
import collections
import hashlib
import hmac
import json
import os
import sys
import time

from rie import load_event

from . import database, schema
from .calls import register, with_body
from .emulator import BenchEmulator
from .settings import COLD_RUNS, HELLO, PASSWORD, SECOND_FACTOR
from .stats import median, ms, p50_p99, ratio

TITLE = "two-step sign-in"
RUNS = int(os.environ.get("BENCH_MFA_RUNS", "50"))
NOTE = f"""\
- 10: {RUNS} rounds after 3 warm-up ones, each a plain login of the main user, a
  login of a user with TOTP on (401 with an `mfa_token`) and that token's
  login-mfa with a right code, in turn in one loop: "TOTP login" is the sum of
  the two p50s, against a plain login plus one DynamoDB round trip (the bare
  Rust client's p50 of status's one read, in the same run). Before each
  login-mfa call, untimed, the factor's last accepted step is set back to 0:
  a code is accepted once per 30 s step, and a series needs one success per
  call. mfa-status and new-recovery-codes (the TOTP user, whose token was
  signed in with the factor) are set against status in the same loop,
  totp-enroll (a user with TOTP off; bcrypt at cost 12, a new pending secret
  each call) against the plain login, totp-confirm with a wrong code (400: the
  read, the key opened, the code checked) against status. totp-disable and
  reset-user-mfa change the account each call: INIT only. INIT: {COLD_RUNS}
  fresh emulators per function, next to hello's."""

# Any event does for an INIT: each function's first from events/.
INIT_EVENTS = {"totp-enroll": "totp-enroll-wrong-password.json",
               "totp-confirm": "totp-confirm-not-enrolled.json",
               "mfa-status": "mfa-status-ok.json",
               "login-mfa": "login-mfa-invalid-token.json",
               "totp-disable": "totp-disable-not-on.json",
               "new-recovery-codes": "new-recovery-codes-not-on.json",
               "reset-user-mfa": "reset-user-mfa-not-admin.json"}


def totp_code(secret, at):
    """RFC 6238's code (SHA-1, 6 digits, 30 s) of base32 `secret` at `at`."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, int(at // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def call(emulator, event, expected):
    response = emulator.invoke(event)
    if response.get("statusCode") != expected:
        sys.exit(f"bench: {emulator.function} answered {response.get('statusCode')} "
                 f"(expected {expected}) in the second-factor setup")
    return json.loads(response["body"])


def with_token(name, token, fields=None):
    event = load_event(name, token)
    return with_body(event, fields) if fields is not None else event


def totp_user():
    """A user with TOTP on: (user, its key, a token signed in with the factor)."""
    emulator = BenchEmulator("register")
    try:
        user = register(emulator, "totp")
    finally:
        emulator.close()
    enroll = BenchEmulator("totp-enroll")
    try:
        secret = call(enroll, with_token("totp-enroll-wrong-password.json", user.token,
                                         {"password": PASSWORD}), 200)["secret"]
    finally:
        enroll.close()
    confirm = BenchEmulator("totp-confirm")
    try:
        answer = call(confirm, with_token("totp-confirm-not-enrolled.json", user.token,
                                          {"code": totp_code(secret, time.time())}), 200)
    finally:
        confirm.close()
    return user, secret, answer["auth_token"]


def forget_last_step(user_id):
    database.client().update_item(
        TableName=os.environ["USERS_TABLE"], Key=schema.second_factor_key(user_id),
        UpdateExpression="SET last_step = :zero", ExpressionAttributeValues={":zero": schema.n(0)})


def measure(calls, floors):
    user, secret, factor_token = totp_user()
    enroller = calls.lister  # TOTP never on: each enrolment replaces a pending one
    names = ("login", "status", "login-mfa", "mfa-status", "new-recovery-codes", "totp-enroll",
             "totp-confirm")
    emulators = {name: BenchEmulator(name) for name in names}
    series = collections.defaultdict(list)
    login_event = lambda email: with_body(load_event("login-ok.json"), {"email": email, "password": PASSWORD})
    try:
        for round_ in range(3 + RUNS):
            timed = {}

            def run(key, name, event, expected):
                _, duration, response = emulators[name].timed_invoke(event, expected)
                timed[key] = duration
                return json.loads(response["body"])

            run("login", "login", login_event(calls.main.email), 200)
            challenge = run("login (TOTP on)", "login", login_event(user.email), 401)
            forget_last_step(user.user_id)
            run("login-mfa", "login-mfa", with_body(load_event("login-mfa-invalid-token.json"), {
                "mfa_token": challenge["mfa_token"], "code": totp_code(secret, time.time())}), 200)
            run("status", "status", load_event("status-ok.json", calls.main.token), 200)
            run("mfa-status", "mfa-status", with_token("mfa-status-ok.json", factor_token), 200)
            run("new-recovery-codes", "new-recovery-codes",
                with_token("new-recovery-codes-not-on.json", factor_token), 200)
            run("totp-enroll", "totp-enroll",
                with_token("totp-enroll-wrong-password.json", enroller.token, {"password": PASSWORD}), 200)
            run("totp-confirm (wrong code)", "totp-confirm",
                with_token("totp-confirm-not-enrolled.json", enroller.token, {"code": "000000"}), 400)
            if round_ >= 3:
                for key, duration in timed.items():
                    series[key].append(duration)
    finally:
        for emulator in emulators.values():
            emulator.close()
    one_read = floors.rust("status", RUNS)
    init = collections.defaultdict(list)
    for _ in range(COLD_RUNS):
        for function in (HELLO, *SECOND_FACTOR):
            emulator = BenchEmulator(function)
            try:
                emulator.invoke(load_event(INIT_EVENTS.get(function, "status-no-token.json")))
                init[function].append(emulator.init_ms())
            finally:
                emulator.close()
    return {"series": series, "one_read": one_read, "init": init}


def rows(table, results):
    found = results["second_factor"]
    series, init = found["series"], found["init"]
    p50 = {name: median(values) for name, values in series.items()}
    one_read = median(found["one_read"])
    totp_login = p50["login (TOTP on)"] + p50["login-mfa"]
    table.row("10 mfa", "TOTP login: login (401) + login-mfa p50",
              f"{ms(p50['login (TOTP on)'])} + {ms(p50['login-mfa'])} = {ms(totp_login)}",
              f"plain login {ms(p50['login'])} + one read {ms(one_read)}",
              ratio(totp_login, p50["login"] + one_read), "≤ 1.05×")
    for name, reference in [("login (TOTP on)", "login"), ("login-mfa", "status"), ("mfa-status", "status"),
                            ("new-recovery-codes", "status"), ("totp-enroll", "login"),
                            ("totp-confirm (wrong code)", "status")]:
        table.row("10 mfa", f"{name}: REPORT Duration p50 / p99", p50_p99(series[name]),
                  f"{reference} {p50_p99(series[reference])}", ratio(p50[name], p50[reference]), "")
    for function in SECOND_FACTOR:
        table.row("10 mfa", f"{function}: INIT median / max",
                  f"{ms(median(init[function]))} / {ms(max(init[function]))}",
                  f"hello {ms(median(init[HELLO]))} / {ms(max(init[HELLO]))}",
                  ratio(median(init[function]), median(init[HELLO])), "≤ 2×")
