"""The portal as it is deployed to its Static Web App: a folder holding portal/ as it is in the repository, MSAL
Browser copied from node_modules (the version package.json pins; vendored here, never committed), a config.json
that tells the portal to sign in with Microsoft Entra ID, and the Static Web App's own staticwebapp.config.json.

azd runs it (through `make portal-site`) before it packages the portal service, with the environment's values in
the process environment: the Bicep outputs API_BASE_URL, PORTAL_AUTHORITY (the login endpoint and the tenant) and
the value PORTAL_CLIENT_ID; PORTAL_API_SCOPE optionally names the scope the app registration exposes. config.json
is made from them alone, never edited by hand, and holds no secret (a client id and a tenant are public).

    python -m scripts.portal_site --out .run/portal-site
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PORTAL_DIR = ROOT / "portal"
NODE_MODULES = ROOT / "node_modules"
MSAL_PACKAGE = "@azure/msal-browser"
MSAL_FILE = "lib/msal-browser.min.js"  # the browser build: one file, `msal` on window
VENDORED = "vendor/msal-browser.min.js"  # under /portal/, where session.js loads it from
DEFAULT_SCOPE = "access_as_user"  # README, Operate: the delegated scope the app registration exposes
LOCAL_HOSTS = ("localhost", "127.0.0.1")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The only keys config.json may hold: what the portal needs to sign in and find the API.
CONFIG_KEYS = {"signIn", "demoUsers", "apiBase", "clientId", "authority", "knownAuthorities", "scope"}


class SiteError(ValueError):
    """A value the portal's config.json needs is missing or malformed; the message names it."""


def _https(name: str, value: str, *, allow_local_http: bool = False) -> str:
    parsed = urlparse(value)
    local = parsed.hostname in LOCAL_HOSTS
    if not parsed.hostname or not (
        parsed.scheme == "https" or (allow_local_http and local and parsed.scheme == "http")
    ):
        raise SiteError(f"{name} must be an https:// URL, got {value!r}")
    if parsed.query or parsed.fragment:
        raise SiteError(f"{name} must have no query or fragment, got {value!r}")
    return value.rstrip("/")


def portal_config(env: Mapping[str, str]) -> dict:
    """config.json for the portal in Azure, from the azd environment's values."""

    def required(name: str) -> str:
        value = (env.get(name) or "").strip()
        if not value:
            raise SiteError(f"{name} is not set: run `azd provision` first (it is an output or an azd env value)")
        return value

    client_id = required("PORTAL_CLIENT_ID")
    if not GUID.match(client_id):
        raise SiteError(f"PORTAL_CLIENT_ID must be the app registration's client id (a GUID), got {client_id!r}")
    # The API's base may be local only for tests; the authority never (MSAL Browser accepts https only).
    api_base = _https("API_BASE_URL", required("API_BASE_URL"), allow_local_http=True)
    authority = _https("PORTAL_AUTHORITY", required("PORTAL_AUTHORITY"))
    scope = (env.get("PORTAL_API_SCOPE") or "").strip() or DEFAULT_SCOPE
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", scope):
        raise SiteError(f"PORTAL_API_SCOPE must be a scope name such as {DEFAULT_SCOPE}, got {scope!r}")
    if "://" not in scope:
        scope = f"api://{client_id}/{scope}"
    return {
        "signIn": "entra",
        "demoUsers": [],
        "apiBase": api_base,
        "clientId": client_id,
        "authority": authority,
        # The authority's host, so MSAL trusts it without asking Microsoft's instance discovery first.
        "knownAuthorities": [urlparse(authority).netloc],
        "scope": scope,
    }


def static_web_app_config() -> dict:
    """staticwebapp.config.json: the portal's own pages (a notice's link, /portal/billing/<id>/pay) are index.html,
    whose script reads the path; a missing file stays a 404; config.json is never cached (it changes with each
    deployment); / leads to /portal/."""
    return {
        "navigationFallback": {
            "rewrite": "/portal/index.html",
            "exclude": ["/portal/vendor/*", "/portal/*.{js,css,json,map,png,svg,ico,txt}"],
        },
        "routes": [
            {"route": "/", "redirect": "/portal/", "statusCode": 302},
            {"route": "/portal/config.json", "headers": {"Cache-Control": "no-store"}},
        ],
        "globalHeaders": {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"},
    }


def pinned_msal_version(root: Path = ROOT) -> str:
    package = json.loads((root / "package.json").read_text())
    version = package.get("devDependencies", {}).get(MSAL_PACKAGE)
    if not version or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise SiteError(f"package.json must pin {MSAL_PACKAGE} to an exact version")
    return version


def build_site(out: Path, config: dict, *, node_modules: Path = NODE_MODULES, portal_dir: Path = PORTAL_DIR) -> Path:
    """Write the deployable folder at `out` (replaced whole); returns the vendored MSAL file."""
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise SiteError(f"config.json would hold keys the portal does not read: {sorted(unknown)}")
    package = node_modules / MSAL_PACKAGE
    installed = json.loads((package / "package.json").read_text()).get("version") if package.is_dir() else None
    pinned = pinned_msal_version(portal_dir.parent)
    if installed != pinned:
        raise SiteError(
            f"node_modules has {MSAL_PACKAGE} {installed or 'missing'}, package.json pins {pinned}: run `npm ci`"
        )
    if out.exists():
        shutil.rmtree(out)
    site = out / "portal"
    shutil.copytree(portal_dir, site, ignore=shutil.ignore_patterns("vendor", "config.json"))
    vendored = site / VENDORED
    vendored.parent.mkdir(parents=True)
    shutil.copyfile(package / MSAL_FILE, vendored)
    shutil.copyfile(package / "LICENSE", vendored.parent / "msal-browser.LICENSE")
    (site / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "staticwebapp.config.json").write_text(json.dumps(static_web_app_config(), indent=2) + "\n")
    return vendored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".run" / "portal-site")
    args = parser.parse_args(argv)
    try:
        config = portal_config(os.environ)
        vendored = build_site(args.out, config)
    except SiteError as error:
        print(f"portal_site: {error}", file=sys.stderr)
        return 2
    print(f"portal site in {args.out}: MSAL Browser {pinned_msal_version()} at /portal/{VENDORED}")
    print(f"signs in at {config['authority']} as {config['clientId']} for {config['scope']}; API {config['apiBase']}")
    assert vendored.is_file()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
