"""Amounts and dates in the reader's locale (Babel), from minor units and UTC times."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision

from pastdue.notices.catalog import LANGUAGES  # the languages notices are written in, listed once

BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "jcb": "JCB",
    "diners": "Diners Club",
    "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires",
}


def locale_of(tag: str | None) -> Locale:
    try:
        return Locale.parse((tag or "en-US").replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en_US")


def language(tag: str | None) -> str:
    lang = locale_of(tag).language
    return lang if lang in LANGUAGES else "en"


def card_label(brand: str, last4: str) -> str:
    """A card as customers read it: Visa •••• 4242 (no-break spaces: never split across lines)."""
    return f"{BRANDS.get(brand, brand.title())}\u00a0••••\u00a0{last4}"


def money(amount: dict | None, tag: str | None) -> str:
    if not amount:
        return ""
    digits = get_currency_precision(amount["currency"])
    value = Decimal(amount["value"]).scaleb(-digits)
    return format_currency(value, amount["currency"], locale=locale_of(tag))


def local_day(value: str | datetime, zone: str, before: bool = False):
    """An instant's calendar day in a time zone (an IANA name; UTC if unknown); `before`: the day before."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    try:
        local = value.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = value
    return local.date() - timedelta(days=1) if before else local.date()


def date(value: str | Date | None, tag: str | None, size: str = "long") -> str:
    """A date as the locale writes it: `long` in sentences ("29 de abril de 2027"), `medium` where a narrow
    column holds it ("29 abr 2027": a table read on a phone)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    locale = locale_of(tag)
    text = format_date(value.date() if isinstance(value, datetime) else value, format=size, locale=locale)
    if locale.language == "fr" and value.day == 1 and text.startswith("1 "):
        text = "1er " + text[2:]  # French writes the first of a month as an ordinal: 1er mai
    return text.replace(" ", "\u00a0")  # a date never breaks across lines ("1. Mai 2027")


QUOTES = {
    "en": ("\u201c", "\u201d"),
    "fr": ("\u00ab\u00a0", "\u00a0\u00bb"),
    "de": ("\u201e", "\u201c"),
    "es": ("\u00ab", "\u00bb"),
}


def quoted(name: str | None, lang: str) -> str:
    """A name in the language's quotation marks: “Production”, « Production », „Production“, «Production»."""
    if not name:
        return ""
    opening, closing = QUOTES.get(lang, QUOTES["en"])
    return f"{opening}{name}{closing}"
