"""Strict input rules shared by every route: JSON shape and size, text, amounts, times, e-mail addresses.

Pure functions that raise ValueError with a message fit for a caller (it never repeats the value:
a value may be a card number). pastdue/http/endpoint.py turns them into 400/413/415 problems.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import HeaderRegistry
from functools import cache

from pastdue.domain.text import CONTROL, SURROGATE

# An id the API takes (account, subscription, charge, event): as docs/openapi.yaml's Id schema writes it.
ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
ID_PATTERN = re.compile(ID)
ID_SCHEMA = f"^{ID}$"
MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
# Amounts in minor units: JSON and Cosmos keep integers exactly up to 2^53 - 1; a lower business
# maximum leaves room for sums over many charges (10^11 minor units = 1,000,000,000.00 EUR).
MAX_AMOUNT = 10**11
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


# Card numbers as they are written: 13-19 digits in one run, or in groups of four (4-4-4-4[-3],
# Amex 4-6-5) split by spaces or dashes. They never start with 0 (so GUIDs of zeros are not cards).
_PAN_CANDIDATE = re.compile(
    r"(?<!\d)(?:[1-9]\d{12,18}"
    r"|[1-9]\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?"
    r"|[1-9]\d{3}([ -])\d{6}\2\d{4,5})(?!\d)"
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})")
_MAILBOX = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)


class TooLarge(ValueError):
    pass


def loads(raw: bytes, limit: int = MAX_BODY_BYTES, depth: int = MAX_DEPTH):
    """JSON with a size and depth limit, no duplicate keys and no NaN/Infinity."""
    if len(raw) > limit:
        raise TooLarge(f"the body is larger than {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    if nesting(text) > depth:
        raise ValueError(f"JSON nested deeper than {depth} levels")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except RecursionError:  # pragma: no cover - nesting() already refused it
        raise ValueError(f"JSON nested deeper than {depth} levels") from None
    except ValueError as error:
        if isinstance(error, DuplicateKey | BadConstant):
            raise
        raise ValueError("the body is not valid JSON") from None
    if "\\u" in text:  # only an escape can make a lone surrogate: UTF-8 itself cannot carry one
        where = invalid_text_at(value)
        if where is not None:
            raise InvalidText(where)
    return value


class InvalidText(ValueError):
    """A string of the body (a value, or a key) holds a lone surrogate; `field` is where."""

    def __init__(self, field: str):
        super().__init__(f"'{field}' must be valid Unicode text (it holds a lone surrogate such as \\ud800)")
        self.field = field


def invalid_text_at(value, path: str = "") -> str | None:
    """The path of the first string (or key) with a lone surrogate in parsed JSON, or None. Iterative."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return where or "body"
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = f"{where}.{safe_name(key)}" if where else safe_name(key)
                if SURROGATE.search(key):
                    return name
                stack.append((name, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{n}]", inner) for n, inner in enumerate(item))
    return None


class DuplicateKey(ValueError):
    pass


class BadConstant(ValueError):
    pass


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(f"the key '{safe_name(key)}' appears twice in one object")
        result[key] = value
    return result


def _no_constant(name):
    raise BadConstant(f"{name} is not a JSON number")


def safe_name(key: str) -> str:
    """A key as far as it is safe to repeat in an answer: a plain name (letters, digits, '_' and '-', no '.'
    that would read as a path) with fewer digits than the shortest card number, however they are split."""
    plain = re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key) is not None
    return key if plain and sum(char.isdigit() for char in key) < 13 else "?"


def nesting(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings ignored. Linear, no recursion."""
    deepest = level = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level -= 1
    return deepest


def check_text(value: str, free_text: bool = True) -> None:
    """No control characters in any text we store, and no card number in free text (names, references,
    codes, addresses). Identifiers, held to their own pattern, are opaque machine values and are not
    searched for card numbers: a random hex id would now and then look like one."""
    if CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs, NUL...)")
    if SURROGATE.search(value):
        raise ValueError("must be valid Unicode text (it holds a lone surrogate such as \\ud800)")
    if free_text and contains_pan(value):
        raise ValueError("looks like a card number; card numbers are never accepted here")


def contains_pan(value: str) -> bool:
    for match in _PAN_CANDIDATE.finditer(value):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn(digits):
            return True
    return False


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def amount_value(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("'value' must be an integer number of minor units")
    if not 0 < value <= MAX_AMOUNT:
        raise ValueError(f"'value' must be between 1 and {MAX_AMOUNT} minor units")
    return value


@cache
def iso_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def currency(value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value) or value not in iso_currencies():
        raise ValueError("must be an ISO 4217 currency code such as EUR")
    return value


def timestamp(value: str) -> datetime:
    """RFC 3339 with a zone, between 2000-01-01 and 2100-01-01 UTC."""
    if not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-25T09:30:00Z")
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-25T09:30:00Z") from None
    if not EARLIEST <= parsed < LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return parsed


_HEADERS = HeaderRegistry()


def mailbox(value: str) -> str:
    """Exactly one plain address (no display name, no group, no list), parsed as a mail header would be."""
    try:
        header = _HEADERS("to", value)
        addresses = header.addresses  # type: ignore[attr-defined]  # an address header's (the registry's "to")
    except (HeaderParseError, IndexError, ValueError, TypeError):
        addresses = ()
        header = None
    if (
        header is None
        or header.defects
        or len(addresses) != 1
        or addresses[0].display_name
        or addresses[0].addr_spec != value
        or not _MAILBOX.fullmatch(value)
    ):
        raise ValueError("must be one e-mail address such as admin@example.com")
    return value
