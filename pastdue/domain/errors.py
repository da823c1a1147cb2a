"""Rejections the lifecycle raises: what went wrong, in the domain's words. The HTTP layer gives each
its status and title (pastdue/http/problems.py, REJECTIONS)."""

from __future__ import annotations

from pastdue.domain.money import Money


class Rejected(Exception):
    """A command the account's state or the rules refuse; nothing was changed."""

    def __init__(self, detail: str, amount: Money | None = None):
        super().__init__(detail)
        self.detail = detail
        self.amount = amount


class UnknownSubscription(Rejected):
    """The subscription the request names is not on the account."""


class NotOnAccount(Rejected):
    """Something support named (a notice, a charge) is not on the account."""


class BalanceOutstanding(Rejected):
    pass


class SubscriptionGone(Rejected):
    pass


class InvalidEvent(Rejected):
    pass


class MissingRemittance(InvalidEvent):
    """An invoice payer needs the bank details its notices tell the customer to pay to."""


class IdempotencyMismatch(InvalidEvent):
    """An Idempotency-Key used again with another request body."""


class Conflict(Rejected):
    pass
