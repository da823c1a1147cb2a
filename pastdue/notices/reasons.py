"""Decline codes as a customer may read them: a few safe reasons. Fraud signals get the generic one
(a fraudster must not learn that a card is flagged); the codes themselves stay in the history."""

from __future__ import annotations

CATEGORIES = {
    "insufficient_funds": "funds", "card_velocity_exceeded": "funds", "withdrawal_count_limit_exceeded": "funds",
    "expired_card": "expired", "invalid_expiry_month": "expired", "invalid_expiry_year": "expired",
    "restricted_card": "blocked", "do_not_honor": "blocked", "transaction_not_allowed": "blocked",
    "card_not_supported": "blocked", "currency_not_supported": "blocked", "service_not_allowed": "blocked",
    "revocation_of_authorization": "blocked", "revocation_of_all_authorizations": "blocked",
    "stop_payment_order": "blocked", "account_closed": "blocked", "invalid_account": "blocked",
    "authentication_required": "authentication",
}
# lost_card, stolen_card, pickup_card, fraudulent, merchant_blacklist, security_violation... -> generic


def category(code: str | None) -> str:
    return CATEGORIES.get(code or "", "generic")
