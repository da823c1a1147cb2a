"""Money as integer minor units with an ISO 4217 currency: never a float."""

from __future__ import annotations

import re

from msgspec import Struct

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SEEN: set[str] = set()  # codes that passed the check (at most 26^3)


class CurrencyMismatch(ValueError):
    pass


class Money(Struct, frozen=True, order=True, forbid_unknown_fields=True):
    value: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.value) is not int:  # never a bool, a float or a string
            raise ValueError("amount value must be an integer number of minor units")
        if self.currency not in _SEEN:  # checked once per code: Money is made thousands of times a decision
            if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
                raise ValueError("currency must be an ISO 4217 code such as EUR")
            _SEEN.add(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value + other.value, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value - other.value, self.currency)

    def min(self, other: Money) -> Money:
        self._same(other)
        return self if self.value <= other.value else other

    @property
    def is_zero(self) -> bool:
        return self.value == 0

    def to_json(self) -> dict:
        return {"value": self.value, "currency": self.currency}

    @classmethod
    def from_json(cls, data: object) -> Money:
        if not isinstance(data, dict) or set(data) != {"value", "currency"}:
            raise ValueError('amount must be {"value": <integer minor units>, "currency": "EUR"}')
        return cls(data["value"], data["currency"])
