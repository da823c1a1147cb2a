"""The portal speaks every language it offers: each key of portal/i18n.js's English has its French, German and
Spanish, except the words that are the same in every language (IBAN, BIC, a language's own name). The words
are read by Node (the test suite's own), as the browser reads the module."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAME_EVERYWHERE = {
    "transfer.iban",
    "transfer.bic",
    "console.locale.en-US",
    "console.locale.fr-FR",
    "console.locale.de-DE",
    "console.locale.es-ES",
}
READ = """
globalThis.localStorage = { getItem() { return null; }, setItem() {} };
globalThis.navigator = { language: "en-US", languages: ["en-US"] };
globalThis.document = { documentElement: { lang: "en" } };
const fs = await import("node:fs");
const src = fs.readFileSync(process.argv[1], "utf8").replace(
  "const WORDS = { en, fr, de, es };", "const WORDS = { en, fr, de, es }; globalThis.__words = WORDS;");
await import("data:text/javascript," + encodeURIComponent(src));
console.log(JSON.stringify(globalThis.__words));
"""


def _words() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: make test installs the stand-ins with npm, which needs it")
    done = subprocess.run(
        [node, "--input-type=module", "-e", READ, str(ROOT / "portal" / "i18n.js")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_every_portal_word_is_in_every_language():
    words = _words()
    assert set(words) == {"en", "fr", "de", "es"}
    for lang in ("fr", "de", "es"):
        missing = sorted(set(words["en"]) - set(words[lang]) - SAME_EVERYWHERE)
        assert missing == [], (lang, missing)


def test_french_uses_typographic_apostrophes_and_fraud_signals_read_as_a_plain_decline():
    words = _words()
    assert [k for k, v in words["fr"].items() if "'" in v] == []
    for lang in words:
        generic = words[lang]["decline.card_declined"]
        assert {words[lang].get(k, words["en"][k]) for k in ("decline.lost_card", "decline.stolen_card")} == {generic}
