"""Two-step sign-in on the account page (issue 23), in Chromium against the
real API: turned on from the QR code's key, the recovery codes saved, a
login that asks for the code or a recovery code, and turned off. The codes
are computed with pyotp from the key the page shows, as a phone would."""

import os
import time

import pyotp
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, WAIT


def recovery_codes(page):
    WebDriverWait(page.driver, WAIT).until(
        lambda _: len(page.driver.find_elements(By.CSS_SELECTOR, "#recovery-list li")) == 10)
    return [item.text for item in page.driver.find_elements(By.CSS_SELECTOR, "#recovery-list li")]


def downloaded(folder, name):
    path = os.path.join(folder, name)
    deadline = time.time() + WAIT
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.2)
    with open(path, encoding="utf-8") as file:
        return file.read()


def turn_on(page, tmp_path):
    """Turns two-step sign-in on from the page; the key and the codes."""
    # The page's first look at the second factor (GET /auth/mfa) sets the
    # forms: answered after the enrolment began, it would hide the
    # confirmation form this goes on to fill.
    page.wait_text("#mfa-state", "Off")
    page.fill("totp-enroll-form", password="not the password")
    page.wait_text("#totp-enroll-form .error", "Current password is incorrect.")
    page.fill("totp-enroll-form", password=PASSWORD)
    page.visible("#totp-confirm-form")
    secret = page.el("#totp-secret").text
    assert len(secret) >= 32, secret
    # The QR code is drawn (an SVG image, not markup in the page).
    WebDriverWait(page.driver, WAIT).until(lambda driver: driver.execute_script(
        "return document.getElementById('totp-qr').naturalWidth") > 0)
    assert page.driver.find_elements(By.CSS_SELECTOR, "main svg") == []
    page.screenshot("two-step-setup")
    page.fill("totp-confirm-form", code="000000")
    page.wait_text("#totp-confirm-form .error", "Invalid or expired code.")
    page.fill("totp-confirm-form", code=pyotp.TOTP(secret).now())
    page.wait_text("#notice", "Two-step sign-in is on.")
    page.wait_text("#mfa-state", "On. 10 recovery codes left.")
    codes = recovery_codes(page)
    assert len(set(codes)) == 10
    page.screenshot("recovery-codes")

    page.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                {"behavior": "allow", "downloadPath": str(tmp_path)})
    page.click("#download-codes")
    saved = downloaded(str(tmp_path), "token-auth-recovery-codes.txt")
    assert all(code in saved for code in codes), saved
    page.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": page.driver.execute_script("return location.origin"),
        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    page.click("#copy-codes")
    page.wait_text("#notice", "Recovery codes copied.")
    copied = page.driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
    assert copied is None or all(code in copied for code in codes), copied

    page.click("#codes-saved")
    page.wait_text("#mfa-state", "On. 10 recovery codes left.")
    assert page.driver.find_elements(By.CSS_SELECTOR, "#recovery-list li") == []
    return secret, codes


def test_two_step_sign_in_from_turning_on_to_turning_off(browser, email, tmp_path):
    laptop = browser()
    laptop.sign_up(email)
    laptop.wait_text("#mfa-state", "Off")
    secret, codes = turn_on(laptop, tmp_path)

    # A login asks for the code; a wrong one is refused on the same screen.
    phone = browser()
    phone.log_in(email, device="Phone")
    phone.visible("#mfa-form")
    assert phone.el("#login-form").get_attribute("hidden") is not None, "one form at a time"
    phone.screenshot("two-step-code")
    phone.fill("mfa-form", code="000000")
    phone.wait_text("#mfa-form .error", "Invalid or expired code.")
    # The next step's code: the one used to confirm is never accepted again.
    phone.fill("mfa-form", code=pyotp.TOTP(secret).at(time.time() + 30))
    phone.wait_text("#account-email", email)

    # A lost phone: a recovery code instead, once.
    borrowed = browser()
    borrowed.log_in(email, device="Borrowed")
    borrowed.visible("#mfa-form")
    borrowed.click("#mfa-form [data-show=recovery-form]")
    borrowed.fill("recovery-form", recovery_code=codes[0])
    borrowed.wait_text("#account-email", email)
    borrowed.wait_text("#mfa-state", "On. 9 recovery codes left.")

    # Off again (the laptop's session was signed in with the factor).
    laptop.fill("totp-disable-form", password=PASSWORD)
    laptop.wait_text("#notice", "Two-step sign-in is off.")
    laptop.wait_text("#mfa-state", "Off")
    again = browser()
    again.log_in(email)
    again.wait_text("#account-email", email)


def test_new_recovery_codes_replace_the_old(browser, email, tmp_path):
    page = browser()
    page.sign_up(email)
    _, old = turn_on(page, tmp_path)
    page.click("#new-codes-form button[type=submit]")
    page.wait_text("#notice", "New recovery codes; the old ones no longer work.")
    new = recovery_codes(page)
    assert set(new).isdisjoint(old)
    page.click("#codes-saved")
    other = browser()
    other.log_in(email)
    other.visible("#mfa-form")
    other.click("#mfa-form [data-show=recovery-form]")
    other.fill("recovery-form", recovery_code=old[1])
    other.wait_text("#recovery-form .error", "Invalid or expired code.")
    other.fill("recovery-form", recovery_code=new[1])
    other.wait_text("#account-email", email)
