"""The portal in Debian's Chromium, headless, driven by Playwright (the system browser: nothing downloaded),
against a local host of the tests' own (the `host` fixture, as tests/e2e)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("PASTDUE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module. A missing browser fails the tests (`make browser-deps` installs
    it), never skips them."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is not installed ({CHROMIUM}): run `make browser-deps`", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the portal's scripts failed: {errors}"
