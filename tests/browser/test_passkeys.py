"""Passkeys on the account page (issue 24), in Chromium with its virtual
authenticator (CDP's WebAuthn domain: a platform authenticator that keeps
discoverable credentials and verifies its user), on http://localhost:
passkeys need a domain, never an IP. A passkey added on the page signs in
with no password; renamed, listed and removed there; a removed one, one
whose backup eligibility changed, or one whose signature is wrong is
refused with the API's "Invalid passkey."."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import LOCALHOST_URL, WAIT

INVALID = "Invalid passkey."


def authenticator(page, synced=False):
    """A virtual platform authenticator in the page's browser; its id.
    `synced`: backup eligible and backed up, as a passkey in a password
    manager or a phone's cloud keychain is."""
    page.driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    return page.driver.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
        "defaultBackupEligibility": synced, "defaultBackupState": synced,
    }})["authenticatorId"]


def credentials(page, authenticator_id):
    return page.driver.execute_cdp_cmd(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def listed(page):
    """(name, marked synced) of each passkey the page lists."""
    items = page.driver.find_elements(By.CSS_SELECTOR, "#passkeys li")
    return [(item.find_element(By.CSS_SELECTOR, ".device").text,
             bool(item.find_elements(By.CSS_SELECTOR, ".current"))) for item in items]


def wait_listed(page, expected):
    """Waits until the page lists `expected` (the list is redrawn after each
    change, so an element read meanwhile may be gone: read again)."""
    try:
        WebDriverWait(page.driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda _: listed(page) == expected)
    except TimeoutException:
        assert listed(page) == expected


def add_passkey(page, name):
    page.visible("#passkeys-section")
    page.fill("passkey-add-form", name=name)
    page.wait_text("#notice", f'Passkey "{name}" added')


def log_out(page):
    page.click("[data-logout=local]")
    page.visible("#login-form")


def passkey_sign_in(page, device=None):
    page.show("login-form")
    if device:
        page.visible("#login-device").send_keys(device)
    page.click("#passkey-login")


def test_a_passkey_added_on_the_page_signs_in_with_no_password(browser, email):
    page = browser(origin=LOCALHOST_URL)
    key = authenticator(page)
    page.sign_up(email)
    page.visible("#passkeys-none")
    add_passkey(page, "Laptop key")
    wait_listed(page, [("Laptop key", False)])
    page.wait_text("#passkeys li .when", "last used never")
    # A discoverable credential for this site, under a random user handle.
    [held] = credentials(page, key)
    assert held["isResidentCredential"] and held["rpId"] == "localhost"
    assert email.encode() not in base64.b64decode(held["userHandle"] + "==")
    page.screenshot("passkeys")

    log_out(page)
    page.screenshot("log-in-passkey")
    passkey_sign_in(page, device="Passkey laptop")
    page.wait_text("#account-email", email)
    assert page.wait_devices(1) == [("Passkey laptop", True)]
    wait_listed(page, [("Laptop key", False)])
    WebDriverWait(page.driver, WAIT).until(
        lambda _: "last used never" not in page.el("#passkeys li .when").text)

    # Renamed, then removed: the account keeps its password.
    page.click("#passkeys li [aria-label='Rename Laptop key']")
    field = page.visible("#passkeys li input")
    field.clear()
    field.send_keys("Work laptop")
    page.click("#passkeys li [aria-label='Rename Laptop key']")
    page.wait_text("#notice", "Passkey renamed.")
    wait_listed(page, [("Work laptop", False)])
    page.click("#passkeys li [aria-label='Remove Work laptop']")
    page.wait_text("#notice", "Passkey deleted.")
    wait_listed(page, [])
    page.visible("#passkeys-none")

    # The authenticator still holds it; the service no longer knows it.
    log_out(page)
    passkey_sign_in(page)
    assert page.wait_text("#login-form .error", INVALID) == INVALID


def test_a_synced_passkey_is_marked_and_one_whose_backup_eligibility_changed_is_refused(
        browser, email):
    page = browser(origin=LOCALHOST_URL)
    key = authenticator(page, synced=True)
    page.sign_up(email)
    add_passkey(page, "Phone")
    wait_listed(page, [("Phone", True)])
    log_out(page)
    passkey_sign_in(page)
    page.wait_text("#account-email", email)

    [held] = credentials(page, key)
    page.driver.execute_cdp_cmd("WebAuthn.setCredentialProperties", {
        "authenticatorId": key, "credentialId": held["credentialId"],
        "backupEligibility": False, "backupState": False})
    log_out(page)
    passkey_sign_in(page)
    assert page.wait_text("#login-form .error", INVALID) == INVALID


def test_a_passkey_whose_signature_is_wrong_is_refused(browser, email):
    page = browser(origin=LOCALHOST_URL)
    key = authenticator(page)
    page.sign_up(email)
    add_passkey(page, "Laptop")
    log_out(page)

    # The same credential id and user handle, signed with another private key.
    [held] = credentials(page, key)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    page.driver.execute_cdp_cmd("WebAuthn.removeCredential", {
        "authenticatorId": key, "credentialId": held["credentialId"]})
    page.driver.execute_cdp_cmd("WebAuthn.addCredential", {"authenticatorId": key, "credential": {
        **{name: held[name] for name in ("credentialId", "rpId", "userHandle", "isResidentCredential")},
        "privateKey": base64.b64encode(other).decode(), "signCount": held["signCount"] + 1}})
    passkey_sign_in(page)
    assert page.wait_text("#login-form .error", INVALID) == INVALID
    page.screenshot("invalid-passkey")

    # The real key still works: nothing was changed by the refusal.
    page.driver.execute_cdp_cmd("WebAuthn.removeCredential", {
        "authenticatorId": key, "credentialId": held["credentialId"]})
    page.driver.execute_cdp_cmd("WebAuthn.addCredential", {"authenticatorId": key, "credential": {
        **{name: held[name] for name in ("credentialId", "rpId", "userHandle", "isResidentCredential")},
        "privateKey": held["privateKey"], "signCount": held["signCount"] + 2}})
    passkey_sign_in(page)
    page.wait_text("#account-email", email)
