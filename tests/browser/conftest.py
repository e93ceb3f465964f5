"""The account page in a real browser: Debian's headless Chromium, driven by
Selenium through Debian's chromedriver (never Selenium Manager, which would
try the internet). API_URL names the API (`cargo lambda watch`), started by
scripts/test/test-browser.sh; SCREENSHOTS, where the screenshots go."""

import os
import time
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

API_URL = os.environ["API_URL"].rstrip("/")
# The same API by name: passkeys need a domain (RP ID `localhost`), never an IP.
LOCALHOST_URL = API_URL.replace("//127.0.0.1:", "//localhost:")
SCREENSHOTS = os.environ.get("SCREENSHOTS", ".tools/screenshots")
PASSWORD = "correct horse battery"
# How long a step may take: generous, for a machine busy with other stages.
WAIT = 20
# A phone: the narrowest width the page must fit.
PHONE = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": False}


class Page:
    """One browser (its own profile, so its own sessionStorage: a device)
    on the account page."""

    def __init__(self, width=1024):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         f"--window-size={width},900"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        self.alerts = []

    def open(self, fragment="", origin=API_URL):
        """The page, once its script has shown a screen (on a shared CI
        machine a cold browser can take a while); if it never does, what the
        browser got and logged."""
        for _ in range(3):
            self.driver.get(f"{origin}/account{fragment}")
            # cargo lambda watch loses a large answer (the page) now and then
            # and says so with a 500 of its own (problem+json, never our
            # envelope): about 3 loads in 1,000. API Gateway has no such
            # bug; load again.
            if "httpstatuses.com/500" not in self.driver.page_source:
                break
            time.sleep(1)
        shown = "#signed-in:not([hidden]), #signed-out:not([hidden])"
        try:
            WebDriverWait(self.driver, WAIT).until(
                EC.presence_of_element_located((By.CSS_SELECTOR, shown)))
        except Exception as error:
            raise AssertionError(
                f"the page showed no screen: {self.driver.page_source[:600]!r}; "
                f"console: {self.driver.get_log('browser')}") from error
        return self

    def el(self, css):
        return WebDriverWait(self.driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def visible(self, css):
        return WebDriverWait(self.driver, WAIT).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, css, text):
        WebDriverWait(self.driver, WAIT).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.el(css).text

    def fill(self, form, **fields):
        for name, value in fields.items():
            field = self.visible(f"#{form} [name={name}]")
            field.clear()
            field.send_keys(value)
        self.el(f"#{form} button[type=submit]").click()

    def click(self, css):
        self.visible(css).click()

    def show(self, screen):
        self.click(f"[data-show={screen}]")
        self.visible(f"#{screen}")

    def sign_up(self, email, device="Laptop"):
        self.show("register-form")
        self.fill("register-form", email=email, password=PASSWORD, device=device)
        self.wait_text("#account-email", email)

    def log_in(self, email, password=PASSWORD, device="Phone"):
        self.show("login-form")
        self.fill("login-form", email=email, password=password, device=device)

    def devices(self):
        """(device name, marked current) of each listed session."""
        items = self.driver.find_elements(By.CSS_SELECTOR, "#sessions li")
        return [(item.find_element(By.CSS_SELECTOR, ".device").text,
                 bool(item.find_elements(By.CSS_SELECTOR, ".current"))) for item in items]

    def wait_devices(self, count):
        WebDriverWait(self.driver, WAIT).until(
            lambda _: len(self.driver.find_elements(By.CSS_SELECTOR, "#sessions li")) == count)
        return self.devices()

    def refresh_token(self):
        return self.driver.execute_script("return sessionStorage.getItem('token-auth.refresh')")

    def screenshot(self, name):
        """The screen at desktop and phone widths, as `<name>-desktop.png`
        and `<name>-phone.png`; checks that the phone width needs no
        sideways scrolling."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}-desktop.png"))
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        try:
            width = self.driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name}: {width} px wide on a phone"
            self.driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}-phone.png"))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def close(self):
        self.driver.quit()


@pytest.fixture
def browser():
    """Opens browsers on the account page ("devices"); closes them all after."""
    opened = []

    def open_one(fragment="", origin=API_URL):
        page = Page()
        opened.append(page)
        return page.open(fragment, origin)

    yield open_one
    for page in opened:
        page.close()


@pytest.fixture
def email():
    return f"browser-{uuid.uuid4().hex[:12]}@example.com"
