"""The figures the docs repeat are the code's: the Stripe API version the app pins, and the history's
retention (its default and its floor). The code holds each once; a change there that forgets the docs
fails here."""

from __future__ import annotations

import re
from pathlib import Path

from pastdue.adapters.stripe_gateway import API_VERSION
from pastdue.domain.retention import DEFAULT_RETENTION_DAYS
from pastdue.settings import MIN_RETENTION_DAYS

ROOT = Path(__file__).resolve().parents[2]
DOCS = {
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
STRIPE_VERSION = re.compile(r"\b20\d\d-\d\d-\d\d\.[a-z]+\b")
RETENTION = re.compile(
    r"default ([\d,]+) days? = 7 years, at least ([\d,]+)|default ([\d,]+) = 7 years, at least ([\d,]+)"
)


def _stripe_versions(text: str) -> set[str]:
    return set(STRIPE_VERSION.findall(text))


def _retention(text: str) -> list[tuple[int, int]]:
    found = []
    for groups in RETENTION.findall(text):
        default, floor = (int(n.replace(",", "")) for n in groups if n)
        found.append((default, floor))
    return found


def test_every_stripe_api_version_the_docs_name_is_the_one_the_app_pins():
    named = {doc: _stripe_versions(text) for doc, text in DOCS.items() if _stripe_versions(text)}
    assert named, "the docs name the pinned Stripe API version (README's webhook set-up)"
    assert all(versions == {API_VERSION} for versions in named.values()), named


def test_the_retention_the_docs_state_is_the_codes():
    stated = [pair for text in DOCS.values() for pair in _retention(text)]
    assert stated, "README.md and docs/design.md state the history's retention"
    assert set(stated) == {(DEFAULT_RETENTION_DAYS, MIN_RETENTION_DAYS)}, stated


def test_the_checks_see_a_figure_that_differs():
    assert _stripe_versions("pinned to 2025-09-30.clover") == {"2025-09-30.clover"}
    assert _retention("kept, default 2,557 days = 7 years, at least 400;") == [(2557, 400)]
    assert _retention("(default 3,000 = 7 years, at least 30)") == [(3000, 30)]
