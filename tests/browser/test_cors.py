"""`make run`'s API answers no other web page's script: `cargo lambda watch`
runs with its CORS layer off (scripts/lib.sh), so a foreign Origin gets no
Access-Control-Allow-Origin, let alone one with credentials, on a simple call
or a preflight; the account page, on the API's own origin, needs none. The
origins of CORS_ALLOW_ORIGINS (test-browser.sh sets one) get what API Gateway
gives the template's CorsAllowOrigin deployed: their own origin back, the
API's methods and headers, and no credentials (scripts/local/cors-front.py)."""

import os
import urllib.error
import urllib.request

API_URL = os.environ["API_URL"].rstrip("/")

FOREIGN = "https://evil.example"
ALLOWED = os.environ["CORS_ALLOW_ORIGINS"].split(",")[0]


def answer(method, path, headers):
    request = urllib.request.Request(f"{API_URL}{path}", method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_a_foreign_origin_is_not_reflected_nor_given_credentials():
    for method, path, headers in [
        ("GET", "/auth/status", {"Origin": FOREIGN}),
        ("OPTIONS", "/auth/login", {
            "Origin": FOREIGN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }),
        ("POST", "/2015-03-31/functions/mailer/invocations", {"Origin": FOREIGN}),
    ]:
        status, got = answer(method, path, headers)
        assert got.get("Access-Control-Allow-Origin") is None, (method, path, status, dict(got))
        assert got.get("Access-Control-Allow-Credentials") is None, (method, path, status, dict(got))


def test_an_allowed_origin_gets_itself_back_every_method_and_no_credentials():
    status, got = answer("OPTIONS", "/auth/login", {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert status == 204, status
    assert got.get("Access-Control-Allow-Origin") == ALLOWED, dict(got)
    methods = {m.strip() for m in got.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods, methods
    assert "authorization" in got.get("Access-Control-Allow-Headers", "").lower()
    assert got.get("Access-Control-Allow-Credentials") is None, dict(got)

    status, got = answer("GET", "/auth/status", {"Origin": ALLOWED})
    assert status == 401, status
    assert got.get("Access-Control-Allow-Origin") == ALLOWED, dict(got)
    assert got.get("Access-Control-Allow-Credentials") is None, dict(got)
