"""Every notice of the gallery (rendered from real flows), as a phone shows it: headless Chromium lays each
out 360 px wide, light and dark, and nothing may be wider than the screen (a table, an IBAN, a button cut
off). Needs Debian's chromium (`make browser-deps`, which `make test` runs, installs it): where it is missing the
test fails, unless PASTDUE_SKIP_BROWSER=1 says to go without it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from devhost.gallery import build

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_BROWSER = os.environ.get("PASTDUE_SKIP_BROWSER") == "1"
# Headless Chromium's window is at least 500 px wide: each notice is laid out in a 360 px frame instead, all
# in one page (one browser start per scheme), and each frame's document reports how wide its content is.
FRAME = "<iframe id='f{n}' style='width:360px;height:900px;border:0;display:block' srcdoc=\"{srcdoc}\"></iframe>"
SCRIPT = (
    "<script>window.onload = function () { var out = {}; document.querySelectorAll('iframe').forEach("
    "function (f) { var d = f.contentDocument; out[f.id] = Math.max(d.documentElement.scrollWidth,"
    " d.body.scrollWidth); }); document.body.setAttribute('data-widths', JSON.stringify(out)); };</script>"
)
SCHEMES = {"light": [], "dark": ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]}


@pytest.fixture(scope="module")
def browser() -> str:
    if BROWSER is None:
        if SKIP_BROWSER:
            pytest.skip("headless Chromium is not installed, and PASTDUE_SKIP_BROWSER=1 says to go without it")
        pytest.fail(
            "headless Chromium is not installed: `make browser-deps` (as root with apt: Debian's chromium and"
            " chromium-driver), or set PASTDUE_SKIP_BROWSER=1 to run without this test",
            pytrace=False,
        )
    return BROWSER


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return build(tmp_path_factory.mktemp("gallery"))


def _widths(browser, pages, flags) -> dict:
    import html
    import json

    frames = "".join(
        FRAME.format(n=n, srcdoc=html.escape(page.read_text(encoding="utf-8"), quote=True))
        for n, page in enumerate(pages)
    )
    probe = pages[0].with_name("all.probe.html")
    probe.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{frames}{SCRIPT}</body></html>", encoding="utf-8")
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--window-size=800,1000",
            "--virtual-time-budget=5000",
            *flags,
            "--dump-dom",
            probe.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    widths = re.search(r'data-widths="([^"]+)"', dom)
    assert widths is not None, dom[:500]
    found = json.loads(html.unescape(widths.group(1)))
    return {page.name: found[f"f{n}"] for n, page in enumerate(pages)}


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_notice_fits_a_360_pixel_phone(browser, pages, scheme):
    widths = _widths(browser, pages, SCHEMES[scheme])
    assert len(widths) == len(pages) > 0
    too_wide = {name: width for name, width in widths.items() if width > 360}
    assert not too_wide, too_wide
