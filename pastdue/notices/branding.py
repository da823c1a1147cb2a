"""Who the notices come from and where their one action leads: brand, support contact, portal deep links."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

# The portal's pages for each action; {accountId} and {subscriptionId} are filled in (URL-quoted).
DEFAULT_LINKS = {
    "pay": "/billing/{accountId}/pay",  # pays the balance now with the card on file
    "update_payment": "/billing/{accountId}/payment-method",
    "confirm_payment": "/billing/{accountId}/payment-confirmations",
    "reactivate": "/billing/{accountId}/subscriptions/{subscriptionId}",
    "verify_email": "/billing/{accountId}/contact",
    "transfer_details": "/billing/{accountId}/invoices",
    "account": "/billing/{accountId}",
}


@dataclass(frozen=True)
class Branding:
    portal_url: str = "http://localhost:7071/portal"  # the portal `make run` serves (settings.LOCAL_PORTAL)
    brand_name: str = "pastdue"
    logo_url: str | None = None
    support_url: str | None = None
    support_email: str | None = None
    sender_name: str | None = None
    legal_footer: str | None = None
    payee_name: str | None = None  # who bank transfers are paid to (default: the brand)
    support_phone: str | None = None  # the number invoice payers call to check bank details they are sent
    links: dict = field(default_factory=lambda: dict(DEFAULT_LINKS))

    def link(self, action: str, account_id: str | None, subscription_id: str | None = None) -> str:
        path = self.links.get(action) or self.links["account"]
        return self.portal_url.rstrip("/") + path.format(
            accountId=quote(account_id or "", safe=""), subscriptionId=quote(subscription_id or "", safe="")
        )
