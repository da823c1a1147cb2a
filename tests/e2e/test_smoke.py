"""The post-deploy smoke script, run against a local host that strips client-sent principals as App
Service Authentication does (PRINCIPAL_MODE=appservice): the same checks as in Azure, local URLs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pastdue import bootstrap
from scripts import smoke
from tests.conftest import RUN_DIR
from tests.support.clients import SECRET


@pytest.fixture(scope="module")
def appservice_host(app_env):
    from tests.support.stack import start_host

    # In Azure's mode the app refuses a local portal address: this host is given a public one.
    env = {
        **app_env,
        "PRINCIPAL_MODE": "appservice",
        "PORTAL_BASE_URL": "https://portal.example.com",
        "PAYEE_NAME": "Example Billing SAS",
        "SUPPORT_EMAIL": "support@example.com",
    }
    process, base = start_host(env, RUN_DIR / "host-appservice.log")
    yield base
    process.terminate()
    process.wait(10)


def _accounts():
    return bootstrap.deps().store.snapshot(datetime.now(UTC), timedelta(days=7))


def test_the_smoke_script_passes_against_a_good_deployment_and_its_account_counts_nowhere(
    appservice_host, standins, capsys
):
    before = _accounts()
    # The setting as it is while rotating ("new,old"): the first secret signs.
    code = smoke.main(
        [
            "--base-url",
            f"{appservice_host}/api",
            "--secret",
            f"{SECRET},an-older-secret-0123456789",
            "--write",
            "--admin-email",
            "smoke-admin@example.com",
            "--mail-api",
            f"http://127.0.0.1:{standins.maildev_web_port}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("ok  ") == 8 and "FAIL" not in out
    named = re.search(r"test account (smoke-\d+)", out)
    assert named is not None, out
    account_id = named.group(1)
    stored = bootstrap.deps().store.get(account_id)
    assert stored is not None and stored.synthetic
    # It removes itself: its document carries a TTL of its own (the container has TTL on, no default).
    document = bootstrap.container("accounts").read_item(account_id, partition_key=account_id)
    assert document["ttl"] == 14 * 86_400
    # Its charge failed and was paid: the dashboard's figures (accounts by state, at risk) did not move.
    assert _accounts()["byState"] == before["byState"], (before, _accounts())


def test_the_smoke_run_writes_nothing_unless_told(appservice_host, capsys):
    for extra in ([], ["--dry", "--admin-email", "smoke-dry@example.com"]):
        code = smoke.main(["--base-url", f"{appservice_host}/api", "--secret", SECRET, *extra])
        out = capsys.readouterr().out
        assert code == 0 and out.count("ok  ") == 3 and "nothing written" in out, out
    assert not bootstrap.deps().store.by_admin_email("smoke-dry@example.com")
    with pytest.raises(SystemExit):  # --write sends e-mail: only to an address given on purpose
        smoke.main(["--base-url", f"{appservice_host}/api", "--secret", SECRET, "--write"])


def test_the_smoke_script_fails_when_the_principal_header_is_trusted(host, standins, capsys):
    """Against the usual local host (unverified-local: the header is trusted), check 2 must fail."""
    code = smoke.main(["--base-url", f"{host}/api", "--secret", SECRET, "--admin-email", "smoke2@example.com"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL a forged X-MS-CLIENT-PRINCIPAL is refused (401)" in out


def test_the_smoke_script_fails_with_the_wrong_secret(appservice_host, capsys):
    code = smoke.main(
        [
            "--base-url",
            f"{appservice_host}/api",
            "--secret",
            "not-the-secret-0123456789",
            "--write",
            "--admin-email",
            "smoke3@example.com",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1 and "FAIL signed PUT" in out
