"""python -m devhost.gallery [FOLDER] [--no-png] [--dark]: every notice kind in every language, rendered as
the customer gets it, into FOLDER (default docs/gallery): one HTML file each and an index.html; and a PNG
each with headless Chromium where it is installed (Debian's `chromium`), so a reviewer looks instead of
reading templates; with --dark, a second PNG each as a mail client in dark mode shows it.

What is rendered is what production queues: each notice comes from an account taken through the real
domain (devhost/notice_flows.py), with the settings a deployment has; no hand-made sample data."""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

from devhost.local_settings import ROOT
from devhost.notice_flows import notices
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import LANGUAGES, catalog
from pastdue.notices.render import render

LOCALES = {"en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES"}
# A deployment's settings: brand, logo (inline here, so screenshots need no network), support, legal footer.
LOGO = (
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxNjAiIGhlaWdodD0iMzIi"
    "PjxyZWN0IHdpZHRoPSIzMiIgaGVpZ2h0PSIzMiIgcng9IjYiIGZpbGw9IiMwZjZjYmQiLz48dGV4dCB4PSI0MCIgeT0iMjMiIGZvbnQtZmFtaWx5"
    "PSJBcmlhbCIgZm9udC1zaXplPSIxOCIgZmlsbD0iIzBmNmNiZCI+Q29udG9zbyBDbG91ZDwvdGV4dD48L3N2Zz4="
)
BRAND = Branding(
    portal_url="https://portal.example.com",
    brand_name="Contoso Cloud",
    logo_url=LOGO,
    support_email="billing-help@contoso.example",
    support_url="https://contoso.example/support",
    legal_footer="Contoso Cloud Ltd · 1 Main Street · Dublin",
)


def build(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pages, rows = [], []
    queued = {lang: notices(LOCALES[lang]) for lang in LANGUAGES}
    for kind in catalog("en")["notices"]:
        cells = []
        for lang in LANGUAGES:
            flow, notice = queued[lang][kind]
            email = render(notice, BRAND)
            page = folder / f"{kind}.{lang}.html"
            page.write_text(email.html, encoding="utf-8")
            pages.append(page)
            cells.append(f'<td><a href="{page.name}">{html.escape(email.subject)}</a><br><small>{flow}</small></td>')
        rows.append(f"<tr><th>{kind}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{lang}</th>" for lang in LANGUAGES)
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>pastdue notices</title>"
        "<body style='font-family: sans-serif'><h1>Every notice, every language</h1>"
        f"<table border='1' cellpadding='6'><tr><th>kind</th>{head}</tr>{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    return pages


def screenshots(pages: list[Path], dark: bool = False) -> int:
    """A phone-width PNG of each page; with `dark`, also NAME.dark.png as a reader in dark mode sees it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no PNGs: headless Chromium is not installed (apt-get install chromium)")
        return 0
    dark_flags = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
    schemes = [("", [])] + ([(".dark", dark_flags)] if dark else [])
    for page in pages:
        for suffix, flags in schemes:
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    *flags,
                    f"--screenshot={page.with_suffix(suffix + '.png')}",
                    "--window-size=420,900",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
    return len(pages) * len(schemes)


def main(argv: list[str]) -> int:
    folders = [a for a in argv if not a.startswith("--")]
    folder = Path(folders[0]) if folders else ROOT / "docs" / "gallery"
    pages = build(folder)
    shots = screenshots(pages, dark="--dark" in argv) if "--no-png" not in argv else 0
    print(f"{len(pages)} notices rendered into {folder} (index.html), {shots} screenshots")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
