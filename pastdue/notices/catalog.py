"""The message catalogs (one YAML file a language): e-mail notices and portal alerts alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
LANGUAGES = ("en", "fr", "de", "es")


# French typography: a no-break space before ":" and a narrow no-break space before ";", "?" and "!",
# so a line never starts with the sign. The catalogs are written with plain spaces, which stay readable.
_FRENCH_SPACES = ((" :", "\u00a0:"), (" ;", "\u202f;"), (" ?", "\u202f?"), (" !", "\u202f!"))


def typeset(text: str, lang: str) -> str:
    if lang == "fr":
        for plain, fixed in _FRENCH_SPACES:
            text = text.replace(plain, fixed)
    return text


def _typeset_tree(tree, lang: str):
    if isinstance(tree, dict):
        return {key: _typeset_tree(value, lang) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_typeset_tree(value, lang) for value in tree]
    return typeset(tree, lang) if isinstance(tree, str) else tree


@cache
def catalog(lang: str) -> dict:
    return _typeset_tree(yaml.safe_load((HERE / f"catalog_{lang}.yaml").read_text(encoding="utf-8")), lang)


def colon(lang: str) -> str:
    """A label's colon, as the language writes it ("IBAN: …", "IBAN : …")."""
    return typeset(" :", lang) if lang == "fr" else ":"
