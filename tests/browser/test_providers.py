"""Sign-in with another provider from the account page (issue 28), in
Chromium against the local mock provider (scripts/local/oidc-provider.js),
and the page as an app's hosted sign-in: an app on another local port sends
the person to /account, gets them back with a one-time code, and redeems it
for working tokens. A redirect_to not on ALLOWED_REDIRECT_URLS shows an error
page and goes nowhere."""

import base64
import hashlib
import http.server
import json
import os
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import API_URL, PASSWORD, WAIT

pytestmark = pytest.mark.skipif(
    "OIDC_PROVIDERS" not in os.environ or "BROWSER_APP_PORT" not in os.environ,
    reason="no local provider (scripts/test/test-browser.sh starts one)")

APP_PORT = int(os.environ.get("BROWSER_APP_PORT", "0"))
APP_URL = f"http://127.0.0.1:{APP_PORT}"


def pkce():
    """A verifier and its S256 challenge, as an app makes them."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def call(method, path, body=None, token=None, follow=True):
    """(status, headers, JSON body or None) of one API call."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{API_URL}{path}", data=data, method=method, headers=headers)
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(request, timeout=60) as response:
            status, headers, text = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, text = error.code, error.headers, error.read()
    try:
        return status, headers, json.loads(text)
    except ValueError:
        return status, headers, None


def authorize_url(redirect_to, challenge, **identity):
    """The mock provider's authorize URL of a sign-in started at the API,
    with who signs in (`sub`, `email`, `email_verified`): the wrapper copies
    them into the ID token, as tests/oidc.rs does."""
    query = urllib.parse.urlencode({"redirect_to": redirect_to, "code_challenge": challenge})
    status, headers, _ = call("GET", f"/auth/oauth/mock/start?{query}", follow=False)
    assert status == 302, status
    return f"{headers['Location']}&{urllib.parse.urlencode(identity)}"


def test_sign_in_with_the_provider_and_its_identity_listed(browser, email):
    page = browser()
    button = page.visible("#providers [data-provider=mock]")
    assert button.text == "Sign in with Mock provider"
    # The button: to the API's start, then the provider, whose default
    # identity gives no email: back on the page with `error=`, in words.
    button.click()
    page.wait_text("#notice", "The provider gave no email address")
    assert page.driver.current_url == f"{API_URL}/account"
    assert page.visible("#login-form")

    # Someone with an address: the page keeps the verifier for the way back
    # as its button does; the test adds who signs in at the provider.
    verifier, challenge = pkce()
    page.driver.execute_script("sessionStorage.setItem('token-auth.pkce-verifier', arguments[0])", verifier)
    sub = f"sub-{secrets.token_hex(6)}"
    page.driver.get(authorize_url(f"{API_URL}/account", challenge, sub=sub, email=email, email_verified="true"))
    page.wait_text("#account-email", email)
    # The code left the address bar; the verifier was used up.
    assert page.driver.current_url == f"{API_URL}/account"
    assert page.driver.execute_script("return sessionStorage.getItem('token-auth.pkce-verifier')") is None
    assert page.el("#account-verified").text == "yes"
    page.wait_text("#identities li", "Mock provider")
    assert email in page.el("#identities li").text
    assert page.visible("#link-providers button").text == "Link Mock provider"
    # The provider is the account's only way in: unlinking is refused.
    page.click("#identities li button")
    page.wait_text("#identities-error", "This is the account's last way to sign in.")
    assert len(page.driver.find_elements(By.CSS_SELECTOR, "#identities li")) == 1
    page.driver.execute_script("document.getElementById('identities-section').scrollIntoView()")
    page.screenshot("identities")


def test_link_the_provider_from_the_account(browser, email):
    page = browser()
    page.sign_up(email)
    page.visible("#identities-none")
    assert page.visible("#link-providers button").text == "Link Mock provider"
    # The Link button asks POST /auth/oauth/mock/link for the provider's page
    # and goes there; the test asks the same (with a token of its own for
    # the account) to name who signs in at the provider.
    status, _, tokens = call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, tokens
    status, _, link = call("POST", "/auth/oauth/mock/link", {"redirect_to": f"{API_URL}/account"},
                           token=tokens["auth_token"])
    assert status == 200, link
    other = f"other-{email}"
    sub = f"sub-{secrets.token_hex(6)}"
    query = urllib.parse.urlencode({"sub": sub, "email": other, "email_verified": "true"})
    page.driver.get(f"{link['authorize_url']}&{query}")
    page.wait_text("#notice", "Mock provider is linked: you can sign in with it.")
    assert page.driver.current_url == f"{API_URL}/account"
    page.wait_text("#identities li", other)
    # A password and a provider: unlinking is allowed.
    page.click("#identities li button")
    page.wait_text("#notice", "Mock provider is unlinked.")
    page.visible("#identities-none")


def test_an_account_without_a_password_confirms_with_its_recent_sign_in(browser, email):
    page = browser()
    verifier, challenge = pkce()
    page.driver.execute_script("sessionStorage.setItem('token-auth.pkce-verifier', arguments[0])", verifier)
    sub = f"sub-{secrets.token_hex(6)}"
    page.driver.get(authorize_url(f"{API_URL}/account", challenge, sub=sub, email=email, email_verified="true"))
    page.wait_text("#account-email", email)
    # Made through the provider: no password to type, none to change; the
    # recent sign-in confirms instead, and the page says so.
    page.visible("#totp-enroll-form")
    page.wait_text("#totp-enroll-form [data-recent]", "Confirmed by your recent sign-in (within 5 minutes)")
    assert not page.el("#enroll-password").is_displayed()
    assert not page.el("#password-form").is_displayed()
    shown = [field for field in page.driver.find_elements(By.CSS_SELECTOR, "#signed-in input[type=password]")
             if field.is_displayed()]
    assert shown == []
    page.click("#totp-enroll-form button[type=submit]")
    page.visible("#totp-confirm-form")
    secret = page.el("#totp-secret").text
    assert len(secret) >= 32, secret
    page.fill("totp-confirm-form", code=pyotp.TOTP(secret).now())
    page.wait_text("#notice", "Two-step sign-in is on.")
    page.click("#codes-saved")
    # Off again, with no password either.
    page.visible("#totp-disable-form")
    assert not page.el("#disable-password").is_displayed()
    assert page.el("#totp-disable-form [data-recent]").is_displayed()
    page.click("#totp-disable-form button[type=submit]")
    page.wait_text("#notice", "Two-step sign-in is off.")
    page.wait_text("#mfa-state", "Off.")


class App(http.server.BaseHTTPRequestHandler):
    """The app: its home links to the hosted sign-in (its verifier kept
    here, server side); /cb records what came back."""
    verifier = None
    returned = []

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            App.verifier, challenge = pkce()
            query = urllib.parse.urlencode({"redirect_to": f"{APP_URL}/cb", "code_challenge": challenge})
            body = f'<!doctype html><title>App</title><a id="sign-in" href="{API_URL}/account?{query}">Sign in</a>'
        elif url.path == "/cb":
            App.returned.append(dict(urllib.parse.parse_qsl(url.query)))
            body = "<!doctype html><title>App</title><p id='back'>Back in the app.</p>"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def app():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", APP_PORT), App)
    App.returned = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield App
    server.shutdown()
    server.server_close()


def test_hosted_sign_in_returns_to_the_app_with_a_code_for_working_tokens(browser, email, app):
    status, _, _ = call("POST", "/auth/register", {"email": email, "password": PASSWORD})
    assert status == 201, status
    page = browser()
    page.driver.get(f"{APP_URL}/")
    page.click("#sign-in")
    page.wait_text("#notice", f"Sign in to continue to 127.0.0.1:{APP_PORT}.")
    # The page's URL no longer shows the app's challenge.
    assert page.driver.current_url == f"{API_URL}/account"
    page.screenshot("hosted-sign-in")
    page.fill("login-form", email=email, password=PASSWORD, device="Hosted")
    WebDriverWait(page.driver, WAIT).until(lambda driver: driver.current_url.startswith(f"{APP_URL}/cb"))
    assert page.el("#back").text == "Back in the app."
    [returned] = app.returned
    assert set(returned) == {"code"}
    # The app redeems its code with its verifier: the login's body, tokens
    # that work; the code works once.
    body = {"code": returned["code"], "code_verifier": app.verifier}
    status, _, tokens = call("POST", "/auth/oauth/token", body)
    assert status == 200, tokens
    status, _, me = call("GET", "/auth/status", token=tokens["auth_token"])
    assert status == 200 and me["data"]["email"] == email
    assert call("POST", "/auth/oauth/token", body)[0] == 400


def test_a_redirect_not_allowed_shows_an_error_and_goes_nowhere(browser):
    page = browser()
    _, challenge = pkce()
    for redirect_to in (f"{APP_URL}/elsewhere", f"http://127.0.0.1:{APP_PORT}@evil.example/cb",
                        "https://evil.example/cb"):
        query = urllib.parse.urlencode({"redirect_to": redirect_to, "code_challenge": challenge})
        page.driver.get(f"{API_URL}/account?{query}")
        assert "This sign-in cannot go on" in page.el("#refused").text + page.el("h1").text
        assert page.driver.current_url.startswith(f"{API_URL}/account?")
        assert not page.driver.find_elements(By.CSS_SELECTOR, "script, form, a")
    page.screenshot("hosted-sign-in-refused")
