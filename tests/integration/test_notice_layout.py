"""Every notice of the gallery (rendered from real flows), as a phone shows it: headless Chromium lays each
out 360 px wide, light and dark, and nothing may be wider than the screen (a table, an IBAN, a button cut
off). Runs where Debian's chromium is installed (`apt-get install chromium`), skipped elsewhere."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from devhost.gallery import build

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="headless Chromium is not installed")
# Headless Chromium's window is at least 500 px wide: the notice is laid out in a 360 px frame instead,
# and the frame's document reports how wide its content is.
WRAPPER = ("<!DOCTYPE html><html><body style='margin:0'><iframe id='phone' style='width:360px;height:900px;border:0'"
           " srcdoc=\"{srcdoc}\"></iframe><script>document.getElementById('phone').onload = function () {{"
           " var doc = this.contentDocument; document.body.setAttribute('data-width', String(Math.max("
           "doc.documentElement.scrollWidth, doc.body.scrollWidth))); }};</script></body></html>")
SCHEMES = {"light": [], "dark": ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]}


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return build(tmp_path_factory.mktemp("gallery"))


def _width(page, flags) -> int:
    import html

    probe = page.with_name(page.stem + ".probe.html")
    probe.write_text(WRAPPER.format(srcdoc=html.escape(page.read_text(encoding="utf-8"), quote=True)),
                     encoding="utf-8")
    dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--disable-background-networking", "--disable-component-update", "--no-first-run",
                          "--window-size=800,1000", "--virtual-time-budget=3000", *flags, "--dump-dom",
                          probe.as_uri()], check=True, capture_output=True, text=True, timeout=60).stdout
    return int(re.search(r'data-width="(\d+)"', dom).group(1))


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_notice_fits_a_360_pixel_phone(pages, scheme):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        widths = dict(zip(pages, pool.map(lambda page: _width(page, SCHEMES[scheme]), pages), strict=True))
    too_wide = {page.name: width for page, width in widths.items() if width > 360}
    assert not too_wide, too_wide
