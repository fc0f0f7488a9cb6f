"""Debian's headless Chromium driven by Selenium, for the tests that need a real browser.

Chromium and its driver come from Debian (`make browser`, a prerequisite of `make test`); when they
are missing the test fails rather than skips, so CI cannot pass without having run it.
"""

from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Headless, as root in CI, and quiet on a machine without network (no background connections).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def chromium_driver() -> webdriver.Chrome:
    """A fresh headless Chromium; the caller quits it."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        install = "`make browser` installs Debian's chromium and chromium-driver"
        pytest.fail(f"{' and '.join(missing)} missing: {install}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def fetched_resources(driver: webdriver.Chrome) -> list[dict]:
    """Every resource the page asked for besides itself (scripts, styles, fonts, images, XHR), as
    ``{"url", "status", "bytes"}``; one the page's security policy blocked has status 0, 0 bytes."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource')"
        ".map(e => ({url: e.name, status: e.responseStatus, bytes: e.transferSize}))"
    )
