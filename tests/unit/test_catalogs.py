"""One catalog per language for e-mails and portal alerts: the same keys and placeholders everywhere,
and nothing left in English outside the English one."""

from __future__ import annotations

import re

import pytest

from pastdue.notices.catalog import LANGUAGES, catalog

SAME_IN_EVERY_LANGUAGE = {("labels", "iban"), ("labels", "bic"), ("owed", "total")}


def _leaves(tree, path=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(tree, list):
        for n, value in enumerate(tree):
            yield from _leaves(value, (*path, n))
    else:
        yield path, str(tree)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


ENGLISH = dict(_leaves(catalog("en")))


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_key_every_placeholder_and_no_english_left(lang):
    other = dict(_leaves(catalog(lang)))
    assert set(other) == set(ENGLISH), set(other) ^ set(ENGLISH)
    for path, text in other.items():
        assert _placeholders(text) == _placeholders(ENGLISH[path]), (lang, path)
        if path not in SAME_IN_EVERY_LANGUAGE:
            assert text != ENGLISH[path], (lang, path, "left in English")
        assert "(s)" not in text, (lang, path)
