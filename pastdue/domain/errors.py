"""Rejections the lifecycle raises; the HTTP layer maps each to its status."""

from __future__ import annotations

from pastdue.domain.money import Money


class Rejected(Exception):
    status = 422
    title = "Unprocessable request"

    def __init__(self, detail: str, amount: Money | None = None):
        super().__init__(detail)
        self.detail = detail
        self.amount = amount


class UnknownSubscription(Rejected):
    status = 404
    title = "Subscription not found"


class BalanceOutstanding(Rejected):
    status = 409
    title = "Balance outstanding"


class SubscriptionGone(Rejected):
    status = 410
    title = "Subscription data deleted"


class InvalidEvent(Rejected):
    status = 422
    title = "Event cannot be applied"


class Conflict(Rejected):
    status = 409
    title = "Conflict with the account's state"
