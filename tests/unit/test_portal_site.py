"""scripts/portal_site.py: the deployed portal's config.json is made from the azd environment's values alone
(Entra ID sign-in, the API's address, the scope), refuses what would not work, holds no secret, and the folder
carries MSAL Browser at the version package.json pins."""

from __future__ import annotations

import json
import shutil

import pytest

from scripts import portal_site
from scripts.portal_site import SiteError, build_site, portal_config, static_web_app_config

CLIENT = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
TENANT = "7b0e8c1e-5f4a-4d3b-9c2a-1e2f3a4b5c6d"
ENV = {
    "API_BASE_URL": "https://func-pastdue-abc.azurewebsites.net/api",
    "PORTAL_CLIENT_ID": CLIENT,
    "PORTAL_AUTHORITY": f"https://login.microsoftonline.com/{TENANT}",
    # Whatever else the azd environment holds never reaches config.json.
    "BILLING_WEBHOOK_SECRET": "akvs://vault/secret",
    "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
}


def test_the_config_says_entra_with_the_client_the_authority_the_api_and_its_scope():
    config = portal_config(ENV)
    assert config == {
        "signIn": "entra",
        "demoUsers": [],
        "apiBase": "https://func-pastdue-abc.azurewebsites.net/api",
        "clientId": CLIENT,
        "authority": f"https://login.microsoftonline.com/{TENANT}",
        "knownAuthorities": ["login.microsoftonline.com"],
        "scope": f"api://{CLIENT}/access_as_user",
    }
    assert "akvs" not in json.dumps(config) and "secret" not in json.dumps(config).lower()


def test_the_scope_follows_what_the_app_registration_exposes():
    assert portal_config({**ENV, "PORTAL_API_SCOPE": "user_impersonation"})["scope"] == (
        f"api://{CLIENT}/user_impersonation"
    )
    full = "api://pastdue-api.contoso.com/access_as_user"
    assert portal_config({**ENV, "PORTAL_API_SCOPE": full})["scope"] == full
    with pytest.raises(SiteError, match="PORTAL_API_SCOPE"):
        portal_config({**ENV, "PORTAL_API_SCOPE": "a scope; with spaces"})


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("API_BASE_URL", "", "API_BASE_URL is not set"),
        ("PORTAL_CLIENT_ID", "", "PORTAL_CLIENT_ID is not set"),
        ("PORTAL_AUTHORITY", "", "PORTAL_AUTHORITY is not set"),
        ("PORTAL_CLIENT_ID", "my-portal", "a GUID"),
        ("API_BASE_URL", "http://func.azurewebsites.net/api", "https://"),
        ("PORTAL_AUTHORITY", "http://localhost:8443/tenant", "https://"),
        ("API_BASE_URL", "https://func.azurewebsites.net/api?code=abc", "no query"),
    ],
)
def test_a_missing_or_malformed_value_is_refused_by_name(name, value, said):
    with pytest.raises(SiteError, match=said):
        portal_config({**ENV, name: value})


def test_the_api_may_be_local_http_for_tests_only():
    assert (
        portal_config({**ENV, "API_BASE_URL": "http://localhost:7071/api/"})["apiBase"] == "http://localhost:7071/api"
    )


def test_the_folder_holds_the_portal_msal_at_the_pinned_version_config_and_the_static_web_app_rules(tmp_path):
    out = tmp_path / "site"
    (out / "stale").mkdir(parents=True)
    vendored = build_site(out, portal_config(ENV))
    assert not (out / "stale").exists()  # replaced whole
    assert vendored == out / "portal" / "vendor" / "msal-browser.min.js"
    pinned = portal_site.pinned_msal_version()
    assert vendored.read_text()[:200].startswith(f"/*! @azure/msal-browser v{pinned} ")
    assert (out / "portal" / "vendor" / "msal-browser.LICENSE").is_file()
    shipped = sorted(path.name for path in portal_site.PORTAL_DIR.iterdir() if path.is_file())
    assert {"index.html", "app.js", "dom.js", "account.js", "support.js", "styles.css"} <= set(shipped)
    for name in shipped:
        assert (out / "portal" / name).read_bytes() == (portal_site.PORTAL_DIR / name).read_bytes(), name
    assert json.loads((out / "portal" / "config.json").read_text())["signIn"] == "entra"
    assert json.loads((out / "staticwebapp.config.json").read_text()) == static_web_app_config()
    rules = static_web_app_config()
    assert rules["navigationFallback"]["rewrite"] == "/portal/index.html"
    assert {"route": "/portal/config.json", "headers": {"Cache-Control": "no-store"}} in rules["routes"]


def test_a_stale_node_modules_or_an_unknown_key_stops_the_build(tmp_path):
    modules = tmp_path / "node_modules"
    shutil.copytree(portal_site.NODE_MODULES / "@azure" / "msal-browser", modules / "@azure" / "msal-browser")
    package = modules / "@azure" / "msal-browser" / "package.json"
    package.write_text(json.dumps({**json.loads(package.read_text()), "version": "0.0.1"}))
    with pytest.raises(SiteError, match="run `npm ci`"):
        build_site(tmp_path / "site", portal_config(ENV), node_modules=modules)
    with pytest.raises(SiteError, match="keys the portal does not read"):
        build_site(tmp_path / "site", {**portal_config(ENV), "clientSecret": "x"})


def test_main_writes_the_folder_from_the_environment(tmp_path, monkeypatch, capsys):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAL_API_SCOPE", raising=False)
    assert portal_site.main(["--out", str(tmp_path / "site")]) == 0
    assert "signs in at https://login.microsoftonline.com/" in capsys.readouterr().out
    monkeypatch.delenv("API_BASE_URL")
    assert portal_site.main(["--out", str(tmp_path / "site")]) == 2
    assert "API_BASE_URL is not set" in capsys.readouterr().err
