"""`make run`'s API answers no other web page's script: `cargo lambda watch`
runs with its CORS layer off (scripts/lib.sh), so a foreign Origin gets no
Access-Control-Allow-Origin, let alone one with credentials, on a simple call
or a preflight; the account page, on the API's own origin, needs none.
Deployed, API Gateway answers CORS for the template's CorsAllowOrigin."""

import os
import urllib.error
import urllib.request

API_URL = os.environ["API_URL"].rstrip("/")

FOREIGN = "https://evil.example"


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
