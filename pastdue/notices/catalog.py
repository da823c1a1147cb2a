"""The message catalogs (one YAML file a language): e-mail notices and portal alerts alike."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
LANGUAGES = ("en", "fr", "de", "es")


@cache
def catalog(lang: str) -> dict:
    return yaml.safe_load((HERE / f"catalog_{lang}.yaml").read_text(encoding="utf-8"))
