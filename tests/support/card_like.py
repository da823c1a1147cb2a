"""A run of digits the API must take for a card number (13-19 digits passing the Luhn check: what
pastdue/http/strict.py refuses), built here rather than written out: the project holds no card number, not
even a test one, and the refusal tests need only something card-shaped."""

from __future__ import annotations


def card_like(prefix: str = "400000000000000") -> str:
    """`prefix` and the Luhn check digit that makes it card-shaped (16 digits with the default)."""
    total = 0
    for n, digit in enumerate(reversed(prefix)):
        value = int(digit) * (2 if n % 2 == 0 else 1)  # doubled from the digit left of the check digit
        total += value - 9 if value > 9 else value
    return prefix + str((10 - total % 10) % 10)


def grouped(number: str) -> str:
    """The number as a person types it: groups of four."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
