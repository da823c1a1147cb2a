"""Who is calling: the billing system (signed webhooks) or a signed-in portal user."""

from __future__ import annotations

import logging
from typing import TypeVar
from urllib.parse import urlsplit

import azure.functions as func

from pastdue import bootstrap
from pastdue.domain.model import Account
from pastdue.http.bodies import ChargeFailedEvent, PaymentReceivedEvent
from pastdue.http.endpoint import read_body
from pastdue.http.principal import Principal, parse_principal
from pastdue.http.problems import NotFound, Unavailable
from pastdue.http.signing import verify
from pastdue.services.portal import find_account

log = logging.getLogger("pastdue.http")


def billing_system(req: func.HttpRequest) -> str:
    settings = bootstrap.settings()
    if settings.webhook_secret_error:
        log.error("signed request refused: %s", settings.webhook_secret_error)
        raise Unavailable(
            "the billing webhook secret is not available; nothing was accepted", headers={"Retry-After": "60"}
        )
    verify(
        req.headers.get("Webhook-Signature"), req.method, signed_path(req.url), req.get_body(), settings.webhook_secrets
    )
    return "billing"


def signed_path(url: str) -> str:
    """The path as the caller sent it, with its query if any: /api/accounts/acct-1."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


E = TypeVar("E", ChargeFailedEvent, PaymentReceivedEvent)


def billing_event(req: func.HttpRequest, model: type[E]) -> E:
    """A signed billing-system event as its model: each field checked, no field unknown."""
    billing_system(req)
    return read_body(req, model)


def portal_user(req: func.HttpRequest) -> Principal:
    # In Azure, App Service Authentication strips any client-sent X-MS-CLIENT-PRINCIPAL and sets its own;
    # PRINCIPAL_MODE says which is in force, and the local mode is logged on every call.
    if bootstrap.settings().principal_mode != "appservice":
        log.warning("PRINCIPAL_MODE=%s: principal header trusted as sent", bootstrap.settings().principal_mode)
    return parse_principal(req.headers.get("X-MS-CLIENT-PRINCIPAL"))


def is_support(principal: Principal) -> bool:
    return principal.has_role(bootstrap.settings().support_role)


def account_for(principal: Principal, account_id: str, support_allowed: bool = False) -> Account:
    """The account if the principal is its admin (or support, where allowed); 404 otherwise."""
    account = find_account(bootstrap.deps(), account_id)
    if account is None or not (
        account.admin.principal_id == principal.object_id or (support_allowed and is_support(principal))
    ):
        raise NotFound("no such account")  # the same answer whether it exists or not
    return account
