"""The event each function is called with, run after run: the API Gateway
events of events/ with this run's users, tokens and ids. A call that uses up
what it is given (a refresh token, a session to end, the current password)
gets a fresh one each time, so every call of a series is a success (but for
reset-password and verify-email: wrong codes, see main below).

Users, registered through the register function, which hands out their
first access and refresh tokens (the bench never signs a token):
  main     status, login, refresh, revoke-session and the authorizer; and
           the code endpoints: resend-verification mails it a new
           verification code every call (its address is never verified),
           verify-email and reset-password send back a wrong code for its
           pending verification code and a reset code the bench writes
           (setup): 400s. A successful reset or verification needs the code
           of a fresh mail each call, so that a series would time forgot and
           a read of the outbox too; the wrong-code series times what an
           attacker guessing codes costs us, the requests a success also
           starts with (its read), and no bcrypt;
  lister   sessions: a user with a steady two sessions, so that the list it
           answers with is the same size all run long (main's grows with
           every login);
  changer  password: its password changes with every call;
  tokens   logout: a session and token of its own for each call, from a login
           of this user, whose password is hashed at bcrypt's lowest cost
           (verifying takes the cost of the stored hash: a few ms).

forgot-password asks for a reset code for a fresh address with an account
each call (a login record written just before, untimed: all forgot checks);
forgot-unknown, alternated with it in one warm series, for a fresh address
without one, after the same untimed write for another address. So the two
differ in nothing but the account, and each call meets fresh per-address mail
counters, as a stranger probing addresses would.
"""

import base64
import json
import os
import sys
import time
from dataclasses import dataclass

from rie import load_event

from . import database, schema
from .emulator import BenchEmulator
from .settings import AUTHORIZER, HELLO, PASSWORD

# The second password of the changer, which alternates between the two.
OTHER_PASSWORD = "a brand new passphrase"

EXPECTED = {"register": 201, "login": 200, "login-unknown": 404, "status": 200,
            "logout": 200, "refresh": 200, "sessions": 200, "revoke-session": 200,
            "password": 200, "jwks": 200, "openid-configuration": 200,
            "example-protected": 200, "account-page": 200, "forgot-password": 202, "forgot-unknown": 202,
            "reset-password": 400, "verify-email": 400, "resend-verification": 202,
            AUTHORIZER: True, HELLO: 200}
# The code the wrong-code calls send back (any 8 digits that are not the code).
WRONG_CODE = "00000000"


def token_claims(token):
    """The claims of a JWT (unverified: we only read our own)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@dataclass
class User:
    email: str
    token: str  # an access token for the session register opened
    refresh_token: str  # that session's live refresh token
    password: str = PASSWORD

    @property
    def user_id(self):
        return token_claims(self.token)["sub"]

    @property
    def session_id(self):
        return token_claims(self.token)["sid"]


def with_body(event, fields):
    event["body"] = json.dumps(fields)
    return event


def register(emulator, role):
    """A new user, through the register function."""
    email = f"bench-{role}-{os.getpid()}-{time.time_ns()}@example.com"
    response = emulator.invoke(with_body(load_event("register-created.json"),
                                         {"email": email, "password": PASSWORD}))
    if response.get("statusCode") != 201:
        sys.exit(f"bench: could not register the {role} user: {response}")
    body = json.loads(response["body"])
    return User(email, body["auth_token"], body["refresh_token"])


class Calls:
    def __init__(self):
        emulator = BenchEmulator("register")
        try:
            self.main, self.lister, self.changer = (register(emulator, role)
                                                    for role in ("main", "lister", "changer"))
        finally:
            emulator.close()
        database.open_session(self.lister.user_id)
        # Register stored main's verification code; its reset code, for
        # reset-password's wrong codes to count against.
        database.pending_code(self.main.email, schema.RESET_PASSWORD)
        # bcrypt verifies at the cost the stored hash was made with.
        emulator = BenchEmulator("register", env={"BCRYPT_COST": "4"})
        try:
            self.token_user = register(emulator, "tokens")
        finally:
            emulator.close()
        self.token_login = BenchEmulator("login")
        self.serial = 0

    def close(self):
        self.token_login.close()

    def invoke(self, emulator, name):
        """(wall ms, REPORT Duration ms) of one call of `name` (a function, or
        an alternate series) with a fresh event; takes note of what it hands back."""
        wall, duration, response = emulator.timed_invoke(self.event(name), EXPECTED[name])
        if name == "refresh":
            # Rotation: the next refresh needs the token this one returned.
            self.main.refresh_token = json.loads(response["body"])["refresh_token"]
        if name == "password":
            self.changer.password = self.next_password()
        return wall, duration

    def event(self, name):
        return self.hello() if name == HELLO else getattr(self, name.replace("-", "_"))()

    def new_email(self):
        self.serial += 1
        return f"bench-{os.getpid()}-{time.time_ns()}-{self.serial}@example.com"

    def from_new_address(self, event):
        """The event from an address of its own (the benchmarking range, RFC
        2544), so that no series reaches a per-address limit (registrations,
        failed logins): they measure the call, not a 429."""
        event["requestContext"]["http"]["sourceIp"] = \
            f"198.18.{self.serial // 250 % 256}.{self.serial % 250 + 1}"
        return event

    def next_password(self):
        return OTHER_PASSWORD if self.changer.password == PASSWORD else PASSWORD

    def register(self):
        return self.from_new_address(with_body(load_event("register-created.json"),
                                               {"email": self.new_email(), "password": PASSWORD}))

    def login(self):
        return with_body(load_event("login-ok.json"), {"email": self.main.email, "password": PASSWORD})

    def login_unknown(self):
        return self.from_new_address(with_body(load_event("login-unknown-email.json"),
                                               {"email": self.new_email(), "password": PASSWORD}))

    def status(self):
        return load_event("status-ok.json", self.main.token)

    def logout(self):
        # Logout ends the token's session: one of its own each time.
        response = self.token_login.invoke(with_body(
            load_event("login-ok.json"), {"email": self.token_user.email, "password": PASSWORD}))
        if response.get("statusCode") != 200:
            sys.exit(f"bench: the token user could not log in: {response}")
        return load_event("logout-ok.json", json.loads(response["body"])["auth_token"])

    def refresh(self):
        return load_event("refresh-ok.json", refresh_token=self.main.refresh_token)

    def sessions(self):
        return load_event("sessions-ok.json", self.lister.token)

    def revoke_session(self):
        session_id = database.open_session(self.main.user_id)
        event = load_event("revoke-session-unknown.json", self.main.token)
        path = f"/auth/sessions/{session_id}"
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"]["id"] = session_id
        return event

    def password(self):
        # Another device's session, for the change to end, as it would in use.
        database.open_session(self.changer.user_id)
        return with_body(load_event("password-wrong-current.json", self.changer.token),
                         {"current_password": self.changer.password,
                          "new_password": self.next_password()})

    def jwks(self):
        return load_event("jwks.json")

    def openid_configuration(self):
        return load_event("openid-configuration.json")

    def account_page(self):
        return load_event("account-page.json")

    def example_protected(self):
        # What the authorizer hands on for the main user; the function reads
        # nothing else.
        event = load_event("example-protected-allowed.json")
        event["requestContext"]["authorizer"]["lambda"].update(
            user_id=self.main.user_id, session_id=self.main.session_id, email=self.main.email)
        return event

    def authorizer(self):
        # An allowed check: the main user's token, whose session stays open.
        return load_event("authorizer-allowed.json", self.main.token)

    def forgot_password(self):
        email = self.new_email()
        database.login_record(email)
        return with_body(load_event("forgot-password-known.json"), {"email": email})

    def forgot_unknown(self):
        database.login_record(self.new_email())  # forgot_password's write, for another address
        return with_body(load_event("forgot-password-unknown.json"), {"email": self.new_email()})

    def reset_password(self):
        return with_body(load_event("reset-password-wrong-code.json"),
                         {"email": self.main.email, "code": WRONG_CODE,
                          "new_password": OTHER_PASSWORD})

    def verify_email(self):
        return with_body(load_event("verify-email-wrong-code.json"),
                         {"email": self.main.email, "code": WRONG_CODE})

    def resend_verification(self):
        return load_event("resend-verification-ok.json", self.main.token)

    def hello(self):
        return load_event("status-no-token.json")
