"""The portal as deployed to Azure (scripts/portal_site.py's folder: MSAL Browser vendored, config.json saying
signIn "entra") signing in with MSAL's redirect flow against a stand-in Entra ID authority
(tests/support/entra_standin.py) and calling an API on another origin with `Authorization: Bearer`.

Not covered here: real Entra ID (its consent screens, signed tokens, conditional access), App Service
Authentication validating the token, and the Static Web App itself (its fallback and headers are emulated)."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from scripts.portal_site import VENDORED, build_site, portal_config
from tests.support.entra_standin import Authority, RecordingApi, StaticSite, User

CLIENT_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
ADA = User(oid="00000000-0000-0000-0000-0000000e17a0", name="Ada Entra")


@pytest.fixture()
def deployed(tmp_path):
    """The three origins: the portal's site, the API and the authority, the site built as azd would build it."""
    authority = Authority(ADA, CLIENT_ID).start()
    site = StaticSite(tmp_path / "site").start()
    api = RecordingApi(allowed_origin=site.origin).start()
    config = portal_config(
        {"API_BASE_URL": api.base, "PORTAL_CLIENT_ID": CLIENT_ID, "PORTAL_AUTHORITY": authority.authority}
    )
    build_site(tmp_path / "site", config)
    yield site, api, authority, config
    for server in (api, site, authority):
        server.stop()


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_portal_signs_in_with_msal_from_its_own_origin_and_calls_the_api_with_a_bearer_token(browser, deployed):
    site, api, authority, config = deployed
    context = browser.new_context(ignore_https_errors=True, locale="en-US")  # the stand-in's certificate
    context.set_default_timeout(20_000)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # A notice's link, nobody signed in: the sign-in screen, then Entra ID's sign-in page.
        page.goto(f"{site.origin}/portal/billing/acct-1042")
        expect(page).to_have_url(f"{site.origin}/portal/signin")
        page.get_by_role("button", name="Sign in with your work account").click()

        # Back from the authority, signed in, on the page the link named, which the API was asked for.
        expect(page).to_have_url(f"{site.origin}/portal/billing/acct-1042")
        expect(page.locator("#user")).to_have_text("Ada Entra")
        assert len(authority.authorize_requests) == 1
        asked = authority.authorize_requests[0]
        assert asked["client_id"] == CLIENT_ID
        assert asked["redirect_uri"] == f"{site.origin}/portal/"
        assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
        assert f"api://{CLIENT_ID}/access_as_user" in asked["scope"].split() and "openid" in asked["scope"].split()
        assert len(authority.token_requests) == 1 and authority.token_requests[0]["code_verifier"]
        expect(page.get_by_role("alert")).to_be_visible()  # the stand-in API knows no account: its 404 in words
        first = [c for c in api.calls if c["path"] == "/api/accounts/acct-1042"]
        assert first and first[0]["authorization"] and first[0]["authorization"].startswith("Bearer ")

        # A new page load: the token comes from MSAL's cache (no second sign-in) and goes with every call.
        page.goto(f"{site.origin}/portal/")
        expect(page.get_by_role("heading", name="My billing accounts")).to_be_visible()
        expect(page.get_by_text("No billing account has you as its admin.")).to_be_visible()
        assert len(authority.authorize_requests) == 1 and len(authority.token_requests) == 1
        assert [c["path"] for c in api.calls] == ["/api/accounts/acct-1042", "/api/me/accounts"]
        for call in api.calls:
            token = str(call["authorization"]).removeprefix("Bearer ")
            claims = _claims(token)
            assert claims["aud"] == f"api://{CLIENT_ID}" and claims["azp"] == CLIENT_ID and claims["oid"] == ADA.oid
            assert call["principal"] is None  # App Service Authentication makes that header, never the portal

        # MSAL from the portal's own origin; no host but the portal, the API and the authority was asked.
        assert f"{site.origin}/portal/{VENDORED}" in requested
        origins = {f"{urlparse(url).scheme}://{urlparse(url).netloc}" for url in requested}
        assert origins <= {site.origin, f"http://localhost:{api.port}", authority.origin}, origins

        # Sign out: Entra ID's end-session endpoint, back to the portal's sign-in screen.
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(re.escape(f"{site.origin}/portal/") + "(signin)?$"))
        expect(page.get_by_role("button", name="Sign in with your work account")).to_be_visible()
        assert authority.logout_requests[0]["post_logout_redirect_uri"] == f"{site.origin}/portal/"
        assert config["knownAuthorities"] == [urlparse(authority.authority).netloc]
    finally:
        context.close()
    assert not errors, f"the portal's scripts failed: {errors}"
