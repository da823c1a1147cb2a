"""Decline codes as a customer may read them: a few safe reasons. Fraud signals get the generic one
(a fraudster must not learn that a card is flagged); the codes themselves stay in the history."""

from __future__ import annotations

from pastdue.domain.retries import AUTHENTICATION, FUNDS

EXPIRED = frozenset({"expired_card", "invalid_expiry_month", "invalid_expiry_year"})
BLOCKED = frozenset(
    {
        "restricted_card",
        "do_not_honor",
        "transaction_not_allowed",
        "card_not_supported",
        "currency_not_supported",
        "service_not_allowed",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "account_closed",
        "invalid_account",
    }
)
# The same "funds" and "authentication" codes as the retry schedule's (domain/retries.py).
READER_REASONS = {
    **dict.fromkeys(FUNDS, "funds"),
    **dict.fromkeys(EXPIRED, "expired"),
    **dict.fromkeys(BLOCKED, "blocked"),
    **dict.fromkeys(AUTHENTICATION, "authentication"),
}
# lost_card, stolen_card, pickup_card, fraudulent, merchant_blacklist, security_violation... -> generic


def reader_reason(code: str | None) -> str:
    """Which of the catalog's reasons (`reasons` in catalog_<lang>.yaml) a customer reads for a decline."""
    return READER_REASONS.get(code or "", "generic")
