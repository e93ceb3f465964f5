"""Schemathesis hooks for `make fuzz-api`.

Bodies that are not UTF-8 go out as `application/octet-stream`: `cargo lambda
watch` answers a 500 of its own, before any function runs, to a JSON or text
body that is not UTF-8 (it puts such bodies in the event as strings), while
binary types reach the function base64-encoded, as API Gateway delivers them.
So the function still gets those bytes, and a 500 means a bug of ours.

With FUZZ_AUTH=1, every request gets the access token of a real account, so
the fuzzer reaches past the token check. The account is made here on first use, with a random
password that never leaves this process; the token is never printed
(Schemathesis also filters Authorization headers and token fields from its
output). A 401 (logout revoked the token, a global logout or a session
revocation ended its session) makes Schemathesis ask for a new token, by
logging in again, and replay the request.

With FUZZ_ADMIN_EMAIL and FUZZ_ADMIN_PASSWORD as well (the admin pass), the
account is instead that admin, which scripts/test/fuzz-api.sh made with the admin
tool (the API makes no admins): it is only ever logged in, at first and after
a 401 alike.
"""

import json
import os
import secrets
import sys
import urllib.error
import urllib.request

import schemathesis

API_URL = os.environ.get("API_URL", "")
ADMIN_EMAIL = os.environ.get("FUZZ_ADMIN_EMAIL")
if ADMIN_EMAIL:
    ACCOUNT = {
        "email": ADMIN_EMAIL,
        "password": os.environ["FUZZ_ADMIN_PASSWORD"],
        "device": "make fuzz-api (admin)",
    }
else:
    ACCOUNT = {
        "email": f"fuzz-{secrets.token_hex(8)}@example.com",
        "password": secrets.token_urlsafe(24),
        "device": "make fuzz-api",
    }


def _post(path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        API_URL + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, (bytes, bytearray)):
        try:
            bytes(case.body).decode("utf-8")
        except UnicodeDecodeError:
            case.headers = case.headers or {}
            case.headers["Content-Type"] = "application/octet-stream"


def _emulators_own_500(response) -> bool:
    """`cargo lambda watch`'s own 500: text/plain problem+json, where every
    answer of ours is JSON in our envelope. It loses a function's large
    answer now and then: GET /account (the page, 18 KB) about 3 times in
    1,000 here, and none of 4,500 small answers (status, jwks, discovery).
    API Gateway is another program."""
    content_type = "".join(response.headers.get("content-type", []))
    return (response.status_code == 500 and content_type.startswith("text/plain")
            and response.content.startswith(b'{"type":"https://httpstatuses.com/500"'))


@schemathesis.hook
def after_call(context, case, response):
    """A GET that the emulator answered with its own 500 is sent again (a
    GET changes nothing), up to twice; the checks then judge the new answer."""
    import requests
    from schemathesis.core.transport import Response

    for _ in range(2):
        if response.request.method != "GET" or not _emulators_own_500(response):
            return
        print(f"fuzz-api: cargo lambda watch's own 500 on GET {response.request.path_url}, sent again",
              file=sys.stderr)
        again = Response.from_any(requests.Session().send(response.request, timeout=30))
        for slot in Response.__slots__:
            setattr(response, slot, getattr(again, slot))


class FuzzAccount:
    # The admin exists already; the user is registered by the first `get`.
    registered = bool(ADMIN_EMAIL)

    def get(self, case, context):
        if not FuzzAccount.registered:
            code, answer = _post("/auth/register", ACCOUNT)
            if code != 201:
                raise RuntimeError(f"register answered {code}: {answer.get('message')}")
            FuzzAccount.registered = True
            return answer["auth_token"]
        code, answer = _post("/auth/login", ACCOUNT)
        if code != 200:
            raise RuntimeError(f"login answered {code}: {answer.get('message')}")
        return answer["auth_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


if os.environ.get("FUZZ_AUTH") == "1":
    schemathesis.auth()(FuzzAccount)
