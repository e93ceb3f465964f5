"""13. Passkeys (issue 24): a passkey sign-in (its options call, then the
assertion) next to a password login, in one loop; passkey-login next to
status (neither hashes a password); and the passkey functions' INIT and
zipped bootstrap next to status's, which links no OpenSSL.

The authenticator is a few lines below: an ES256 key from the
`cryptography` package, "none" attestation, user presence and verification
flags, a counter that grows. That is what a platform authenticator sends,
without its prompt."""

import base64
import collections
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from rie import load_event

from .calls import register, with_body
from .emulator import BenchEmulator
from .settings import COLD_RUNS, PASSWORD
from .size import zipped_mb
from .stats import median, ms, p50_p99, ratio

TITLE = "passkeys"
RUNS = int(os.environ.get("BENCH_PASSKEY_RUNS", "50"))
FUNCTIONS = ("passkey-register-options", "passkey-register", "passkey-login-options",
             "passkey-login", "passkeys", "rename-passkey", "delete-passkey")
NOTE = f"""\
- 13: {RUNS} rounds after 3 warm-up ones, each a password login of a user
  (bcrypt at cost 12), a passkey sign-in of the same user (passkey-login-options
  with no email, then passkey-login with an assertion signed by a software
  authenticator in this script: ES256, user verified, counter + 1) and a
  status call, in turn in one loop. INIT: {COLD_RUNS} fresh emulators per
  passkey function, next to status's. Zip: deflated release bootstrap, as in 5;
  the passkey functions are built from their own package (functions-passkeys),
  status from functions, as sam build builds them."""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value):
    """CBOR (RFC 8949) of the few types an attestation needs."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
        raise ValueError(n)
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, dict):
        return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


class SoftAuthenticator:
    """One passkey: an ES256 key pair, its credential id and user handle."""

    def __init__(self, rp_id, origin):
        self.rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.counter = 0
        self.user_handle = None

    def client_data(self, kind, challenge):
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def attestation(self, public_key):
        """The registration credential for creation options `public_key`."""
        self.user_handle = unb64url(public_key["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (self.rp_id_hash + bytes([0x45]) + self.counter.to_bytes(4, "big") + bytes(16)
                     + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cose)
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"attestationObject": b64url(attestation),
                             "clientDataJSON": b64url(self.client_data("webauthn.create", public_key["challenge"]))},
                "extensions": {}}

    def assertion(self, public_key):
        """The signed assertion for request options `public_key`."""
        self.counter += 1
        auth_data = self.rp_id_hash + bytes([0x05]) + self.counter.to_bytes(4, "big")
        client_data = self.client_data("webauthn.get", public_key["challenge"])
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"authenticatorData": b64url(auth_data), "clientDataJSON": b64url(client_data),
                             "signature": b64url(signature), "userHandle": b64url(self.user_handle)},
                "extensions": {}}


def call(emulator, event, expected):
    _, duration, response = emulator.timed_invoke(event, expected)
    return duration, json.loads(response["body"])


def options_event():
    return with_body(load_event("passkey-login-options-ok.json"), {})


def login_event(ceremony_id, credential):
    return with_body(load_event("passkey-login-unknown-ceremony.json"),
                     {"ceremony_id": ceremony_id, "credential": credential, "device_name": "bench"})


def passkey_user(emulators):
    """A user with one passkey, registered through the functions."""
    registrar = BenchEmulator("register")
    try:
        user = register(registrar, "passkey")
    finally:
        registrar.close()
    key = SoftAuthenticator(os.environ["RP_ID"], os.environ["RP_ORIGIN"])
    _, options = call(emulators["passkey-register-options"],
                      load_event("passkey-register-options-ok.json", user.token), 200)
    credential = key.attestation(options["publicKey"])
    call(emulators["passkey-register"], with_body(load_event("passkey-register-bad-body.json", user.token), {
        "ceremony_id": options["ceremony_id"], "credential": credential, "name": "bench"}), 201)
    return user, key


def measure(calls, floors):
    names = ("login", "status", "passkey-register-options", "passkey-register", "passkey-login-options",
             "passkey-login")
    emulators = {name: BenchEmulator(name) for name in names}
    series = collections.defaultdict(list)
    try:
        user, key = passkey_user(emulators)
        password_login = with_body(load_event("login-ok.json"), {"email": user.email, "password": PASSWORD})
        for round_ in range(3 + RUNS):
            timed = {}
            timed["login"] = call(emulators["login"], password_login, 200)[0]
            timed["passkey-login-options"], options = call(emulators["passkey-login-options"], options_event(), 200)
            credential = key.assertion(options["publicKey"])
            timed["passkey-login"], body = call(emulators["passkey-login"],
                                                login_event(options["ceremony_id"], credential), 200)
            timed["status"] = call(emulators["status"], load_event("status-ok.json", calls.main.token), 200)[0]
            if round_ >= 3:
                for name, duration in timed.items():
                    series[name].append(duration)
        if "mfa" not in json.loads(unb64url(body["auth_token"].split(".")[1]))["amr"]:
            sys.exit("bench: a passkey sign-in's token has no mfa in amr")
    finally:
        for emulator in emulators.values():
            emulator.close()
    init = collections.defaultdict(list)
    for _ in range(COLD_RUNS):
        for function in ("status", *FUNCTIONS):
            emulator = BenchEmulator(function)
            try:
                emulator.invoke(load_event("status-no-token.json"))
                init[function].append(emulator.init_ms())
            finally:
                emulator.close()
    zipped = {function: zipped_mb(function) for function in ("status", *FUNCTIONS)}
    return {"series": series, "init": init, "zipped": zipped}


def rows(table, results):
    found = results["passkeys"]
    series, init, zipped = found["series"], found["init"], found["zipped"]
    p50 = {name: median(values) for name, values in series.items()}
    sign_in = p50["passkey-login-options"] + p50["passkey-login"]
    table.row("13 passkeys", "passkey sign-in: options + passkey-login p50",
              f"{ms(p50['passkey-login-options'])} + {ms(p50['passkey-login'])} = {ms(sign_in)}",
              f"password login {p50_p99(series['login'])}", ratio(sign_in, p50["login"]),
              "far below 1× (no bcrypt)")
    for name in ("passkey-login-options", "passkey-login"):
        table.row("13 passkeys", f"{name}: REPORT Duration p50 / p99", p50_p99(series[name]),
                  f"status {p50_p99(series['status'])}", ratio(p50[name], p50["status"]), "")
    status_init = median(init["status"])
    for function in FUNCTIONS:
        table.row("13 passkeys", f"{function}: INIT median / max · zipped bootstrap",
                  f"{ms(median(init[function]))} / {ms(max(init[function]))} · {zipped[function]:.2f} MB",
                  f"status {ms(status_init)} / {ms(max(init['status']))} · {zipped['status']:.2f} MB",
                  f"{ratio(median(init[function]), status_init)} · {ratio(zipped[function], zipped['status'])}",
                  "≤ 1.2× · ≤ 1.15×")
