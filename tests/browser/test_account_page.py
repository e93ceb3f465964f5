"""The account page (issue 14), driven in headless Chromium against the real
API: what a person does, and what they see."""

import time

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import PASSWORD, Page

HOSTILE = "<img src=x onerror=alert(1)>"


def shown_forms(page):
    return [form.get_attribute("id") for form in page.driver.find_elements(By.CSS_SELECTOR, "form")
            if form.is_displayed()]


def test_sign_up_shows_the_account(browser, email):
    page = browser()
    # Signed out: one form at a time, log in first.
    assert shown_forms(page) == ["login-form"]
    page.screenshot("log-in")
    page.show("register-form")
    assert shown_forms(page) == ["register-form"]
    page.screenshot("sign-up")
    page.sign_up(email)
    assert page.el("#account-verified").text == "not yet"
    assert page.el("#account-registered").text
    assert page.wait_devices(1) == [("Laptop", True)]
    page.screenshot("account")


def test_two_devices_are_listed_and_one_ends_the_other(browser, email):
    laptop, phone = browser(), browser()
    laptop.sign_up(email, device="Laptop")
    phone.log_in(email, device="Phone")
    phone.wait_text("#account-email", email)
    # A reload keeps the person signed in, and shows the other device.
    laptop.driver.refresh()
    assert sorted(laptop.wait_devices(2)) == [("Laptop", True), ("Phone", False)]
    laptop.screenshot("devices")
    laptop.click("#sessions li:not(:has(.current)) button")
    laptop.wait_text("#notice", "Signed out Phone.")
    assert laptop.wait_devices(1) == [("Laptop", True)]
    # The phone learns on its next action, and is signed out cleanly.
    phone.click("[data-logout=others]")
    phone.wait_text("#notice", "Your session has ended. Please log in again.")
    assert phone.visible("#login-form")
    assert phone.refresh_token() is None


def test_log_out_everywhere(browser, email):
    laptop, phone = browser(), browser()
    laptop.sign_up(email)
    phone.log_in(email)
    phone.wait_text("#account-email", email)
    laptop.click("[data-logout=global]")
    laptop.wait_text("#notice", "Signed out everywhere.")
    assert laptop.refresh_token() is None
    phone.driver.refresh()
    phone.wait_text("#notice", "Your session has ended. Please log in again.")
    assert phone.visible("#login-form")


def test_change_password(browser, email):
    page = browser()
    page.sign_up(email)
    new_password = "a brand new passphrase"
    page.fill("password-form", current_password="not the password", new_password=new_password)
    page.wait_text("#password-form .error", "Current password is incorrect.")
    page.fill("password-form", current_password=PASSWORD, new_password=new_password)
    page.wait_text("#notice", "Password changed.")
    other = browser()
    other.log_in(email, password=PASSWORD)
    other.wait_text("#login-form .error", "User does not exist.")
    other.log_in(email, password=new_password)
    other.wait_text("#account-email", email)


def test_a_wrong_password_shows_the_apis_message(browser, email):
    page = browser()
    page.sign_up(email)
    page.click("[data-logout=local]")
    page.wait_text("#notice", "Signed out.")
    page.log_in(email, password="not the password")
    page.wait_text("#login-form .error", "User does not exist.")
    page.screenshot("wrong-password")
    page.show("register-form")
    page.fill("register-form", email=email, password="short")
    page.wait_text("#register-form .error", "password must be 8 to 72 bytes long.")


def test_a_hostile_device_name_is_shown_as_text(browser, email):
    page = browser()
    page.show("register-form")
    page.fill("register-form", email=email, password=PASSWORD, device=HOSTILE)
    page.wait_text("#account-email", email)
    assert page.wait_devices(1) == [(HOSTILE, True)]
    assert page.driver.find_elements(By.CSS_SELECTOR, "#sessions img") == []
    try:
        alert = page.driver.switch_to.alert.text
    except NoAlertPresentException:
        alert = None
    assert alert is None


def test_an_expired_access_token_is_refreshed_unnoticed(browser, email):
    # scripts/test/test-browser.sh runs the API with a 5-second access token.
    page = browser()
    page.sign_up(email)
    before = page.refresh_token()
    time.sleep(6)
    page.click("[data-logout=others]")
    page.wait_text("#notice", "Your other devices are signed out.")
    assert page.refresh_token() not in (None, before), "rotated by a silent refresh"
    assert page.visible("#signed-in")


def test_mail_links_fill_in_the_code_and_use_nothing(browser, email):
    page = browser("#verify?email=joe%40example.com&code=12345678")
    assert page.visible("#verify-form")
    assert page.el("#verify-email").get_attribute("value") == "joe@example.com"
    assert page.el("#verify-code").get_attribute("value") == "12345678"
    # The code leaves the address bar (and the history) at once.
    assert "#" not in page.driver.current_url
    page.screenshot("verify-email")
    page.el("#verify-code").send_keys(Keys.ENTER)
    page.wait_text("#verify-form .error", "Invalid or expired code.")
    reset = browser("#reset?email=joe%40example.com&code=87654321")
    assert reset.visible("#reset-form")
    assert reset.el("#reset-code").get_attribute("value") == "87654321"


def test_forgot_password_leads_to_the_code_screen(browser, email):
    page = browser()
    page.sign_up(email)
    page.click("[data-logout=local]")
    page.show("forgot-form")
    page.fill("forgot-form", email=email)
    page.wait_text("#notice", "If the address has an account, a code is on its way.")
    assert page.visible("#reset-form")
    assert page.el("#reset-email").get_attribute("value") == email
    page.screenshot("reset-password")


def test_the_forms_work_from_the_keyboard(browser, email):
    page = browser()
    page.show("register-form")
    field = page.visible("#register-email")
    field.send_keys(email, Keys.TAB, PASSWORD, Keys.TAB, "Keyboard", Keys.ENTER)
    page.wait_text("#account-email", email)
    # Every input has a label.
    for form in page.driver.find_elements(By.CSS_SELECTOR, "form"):
        for field in form.find_elements(By.CSS_SELECTOR, "input"):
            labels = page.driver.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
            assert labels, field.get_attribute("id")


def test_a_display_name_is_kept_in_user_metadata_and_shown_as_text(browser, email):
    laptop = browser()
    laptop.sign_up(email)
    assert laptop.wait_text("#account-name", "not set")
    laptop.fill("name-form", display_name=HOSTILE)
    laptop.wait_text("#notice", "Account updated.")
    assert laptop.wait_text("#account-name", HOSTILE) == HOSTILE
    # No image but the page's own (the QR code's, empty until two-step sign-in is set up).
    assert laptop.driver.find_elements(By.CSS_SELECTOR, "main img:not(#totp-qr)") == []
    # Another device reads it from the account.
    phone = browser()
    phone.log_in(email, device="Phone")
    assert phone.wait_text("#account-name", HOSTILE) == HOSTILE
    assert phone.el("#display-name").get_attribute("value") == HOSTILE
