"""What a newcomer runs from the README: the tour, the signing recipe, the principal helper."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(host: str, standins, **extra) -> dict:
    return {
        **os.environ,
        "PASTDUE_URL": host,
        "FUNCTIONS_PORT": str(urlsplit(host).port),
        "MAILDEV_WEB_PORT": str(standins.maildev_web_port),
        **extra,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "ending, last", [("pay", "the subscription is active again"), ("delete", "Day 120: the subscription is deleted")]
)
def test_the_tour_walks_the_whole_lifecycle_and_resets_the_clock(host, standins, tools, ending, last):
    run = subprocess.run(
        [sys.executable, "-m", "devhost.tour", "--ending", ending],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(host, standins),
        timeout=600,
    )
    out = run.stdout.replace("\u202f", " ").replace("\u00a0", " ")  # Babel's narrow and no-break spaces
    assert run.returncode == 0, run.stderr + out
    assert "Échec du paiement, 1 234,56 € à régler" in out  # the e-mail's subject: the amount owed
    assert "Nous n’avons pas pu débiter votre moyen de paiement pour Production. Un montant de 1 234,56 €" in out
    for day, what in (
        (1, "retried the card: declined"),
        (3, "notice queued: reminder"),
        (28, "notice queued: final_notice"),
        (30, "subscription disabled"),
    ):
        assert re.search(rf"day +{day}: .*{what}", out), (day, what, out)
    assert last in out and "The test clock is back to now" in out
    assert tools.now()[:10] == datetime.now(UTC).date().isoformat()


def test_the_tour_says_plainly_when_the_host_is_down_or_the_secret_differs(host, standins):
    down = subprocess.run(
        [sys.executable, "-m", "devhost.tour"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env("http://127.0.0.1:9", standins),
        timeout=60,
    )
    assert down.returncode == 1 and "nothing answers at http://127.0.0.1:9" in down.stderr
    assert "Traceback" not in down.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "devhost.tour"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(host, standins, BILLING_WEBHOOK_SECRET="not-the-local-secret-0123"),
        timeout=60,
    )
    assert wrong.returncode == 1 and "BILLING_WEBHOOK_SECRET differs" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_the_readme_signing_recipe_gets_a_200_as_written(host, standins):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- recipe:sign -->")[1].split("<!-- /recipe:sign -->")[0]
    command = block.split("```sh\n")[1].split("```")[0]
    run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=_env(host, standins), timeout=60)
    answer = json.loads(run.stdout)  # a 200/201 answers the account view; any error a problem document
    assert answer["accountId"] == "acct-demo" and "status" not in answer, (run.stdout, run.stderr)


def test_the_principal_helper_prints_a_header_the_host_accepts(host, standins, portal):
    oid = "00000000-0000-0000-0000-0000000000aa"
    printed = subprocess.run(
        [sys.executable, "-m", "devhost.principal", "--oid", oid, "--role", "Billing.Support"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    from pastdue.http.principal import parse_principal

    principal = parse_principal(printed)
    assert principal.object_id == oid and principal.has_role("Billing.Support")
