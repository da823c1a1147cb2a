"""python -m devhost.gallery [FOLDER] [--no-png] [--no-portal] [--dark]: the inbox of every flow in every
language, as the customer gets it, into FOLDER (default docs/gallery): every message each flow sends, in order,
one HTML file each, an inbox page per flow with each message's HTML beside its plain text, and an index.html;
and a PNG of
each message with headless Chromium where it is installed (Debian's `chromium`), so a reviewer looks instead
of reading templates; with --dark, a second PNG each as a mail client in dark mode shows it.

What is rendered is what production queues: each notice comes from an account taken through the real
domain (devhost/notice_flows.py), with the settings a deployment has; no hand-made sample data.

The portal's screens (an account past due with its banner and owed table, an invoice payer's transfer block
with its QR code, the support console) come from a real flow too: unless --no-png or --no-portal, the gallery
runs the browser test that takes them (a local host with its stand-ins, accounts made through the API, Debian's
Chromium; a minute or so) at 390 px and 1280 px wide into FOLDER/portal/, and the index links them
(portal/index.html). The same test writes them whenever the suite runs it ($PASTDUE_GALLERY, default
docs/gallery)."""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from pathlib import Path

from devhost.local_settings import ROOT
from devhost.notice_flows import flows
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import LANGUAGES
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
    payee_name="Contoso Cloud Ltd",  # required in Azure: the legal name, as the footer has it
    support_phone="+353 1 555 0100",
)


def build(folder: Path) -> list[Path]:
    """The inbox of every flow in every language: each message the flow sent, in order, as an HTML file (its
    inline QR code beside it as a PNG file the page names), its plain text beside it on the flow's inbox page,
    and an index of the flows. Returns the messages' HTML files."""
    folder.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    sections = []
    for lang in LANGUAGES:
        tag = LOCALES[lang]
        rows = []
        for flow in flows(tag):
            inbox = folder / f"{flow.name}.{lang}.html"
            messages = []
            for n, (event, notice) in enumerate(flow.inbox, 1):
                email = render(notice, BRAND)
                stem = f"{flow.name}.{lang}.{n:02d}-{notice.kind}"
                body = email.html
                for image in email.inline:  # a browser cannot open cid: links: the image as a file beside it
                    picture = folder / f"{stem}.{image.filename}"
                    picture.write_bytes(image.data)
                    body = body.replace(f"cid:{image.content_id}", picture.name)
                page = folder / f"{stem}.html"
                page.write_text(body, encoding="utf-8")
                pages.append(page)
                messages.append(
                    "<tr><td colspan='2'><h3>"
                    f"{n}. {html.escape(email.subject)}</h3><small>to {html.escape(email.to)}, "
                    f"after {html.escape(event)}</small></td></tr><tr style='vertical-align: top'>"
                    f"<td><iframe src='{page.name}' title='{html.escape(email.subject)}' style='width: 420px;"
                    " border: 1px solid #ccc' onload=\"this.style.height = this.contentDocument.documentElement"
                    ".scrollHeight + 'px'\"></iframe></td>"
                    "<td><pre style='white-space: pre-wrap; max-width: 560px'>"
                    f"{html.escape(email.text)}</pre></td></tr>"
                )
            inbox.write_text(
                f"<!DOCTYPE html><html lang='{lang}'><meta charset='utf-8'><title>{flow.name} ({lang})</title>"
                f"<body style='font-family: sans-serif'><h1>{flow.name} ({tag}): {len(flow.inbox)} messages</h1>"
                "<p><a href='index.html'>All flows</a></p>"
                f"<table cellpadding='8'>{''.join(messages)}</table></body></html>",
                encoding="utf-8",
            )
            kinds = ", ".join(n.kind for _, n in flow.inbox)
            rows.append(f"<li><a href='{inbox.name}'>{flow.name}</a>: {len(flow.inbox)} messages ({kinds})</li>")
        sections.append(f"<h2>{tag}</h2><ul>{''.join(rows)}</ul>")
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>pastdue notices</title>"
        "<body style='font-family: sans-serif'><h1>Every flow's inbox, every language</h1>"
        "<p>Each flow is an account taken through the real domain; each inbox page shows every message it was "
        f"sent, in order, the HTML beside its plain text.</p>{''.join(sections)}{portal_section(folder)}"
        "</body></html>",
        encoding="utf-8",
    )
    return pages


def portal_section(folder: Path) -> str:
    """The index's list of the portal's screenshots the browser tests wrote into FOLDER/portal/."""
    shots = sorted((folder / "portal").glob("portal-*.png"))
    items = "".join(
        f"<li><a href='portal/{html.escape(shot.name)}'>{html.escape(shot.stem.removeprefix('portal-'))}</a></li>"
        for shot in shots
    )
    found = f"<ul>{items}</ul>" if shots else "<p>None yet.</p>"
    return (
        "<h2>Portal screens</h2><p>Phone (390 px) and desktop (1280 px) screenshots of the portal, taken by "
        "tests/browser/test_support_console.py from a local host with real accounts: "
        f"<a href='portal/index.html'>side by side</a>.</p>{found}"
    )


def screenshots(pages: list[Path], dark: bool = False) -> int:
    """A phone-width PNG of each page; with `dark`, also NAME.dark.png as a reader in dark mode sees it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no PNGs: headless Chromium is not installed (apt-get install chromium)")
        return 0
    dark_flags = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
    schemes: list[tuple[str, list[str]]] = [("", [])] + ([(".dark", dark_flags)] if dark else [])
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
                    "--window-size=420,3000",  # tall enough for the longest message: never cut
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
    return len(pages) * len(schemes)


PORTAL_SHOTS = (
    "tests/browser/test_support_console.py::test_the_main_screens_fit_a_phone_and_a_desktop_and_go_to_the_gallery"
)


def portal_screenshots(folder: Path) -> bool:
    """The portal's main screens, taken by the browser test from a real flow, into FOLDER/portal/."""
    import os
    import subprocess

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PORTAL_SHOTS],
        cwd=ROOT,
        env={**os.environ, "PASTDUE_GALLERY": str(folder.resolve())},
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        print(f"the portal's screenshots were not taken:\n{run.stdout[-2000:]}{run.stderr[-2000:]}", file=sys.stderr)
    return run.returncode == 0


def main(argv: list[str]) -> int:
    folders = [a for a in argv if not a.startswith("--")]
    folder = Path(folders[0]) if folders else ROOT / "docs" / "gallery"
    portal = "--no-png" not in argv and "--no-portal" not in argv and portal_screenshots(folder)
    pages = build(folder)
    shots = screenshots(pages, dark="--dark" in argv) if "--no-png" not in argv else 0
    taken = len(list((folder / "portal").glob("portal-*.png"))) if portal else 0
    print(f"{len(pages)} messages rendered into {folder} (index.html), {shots} screenshots, {taken} portal screens")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
