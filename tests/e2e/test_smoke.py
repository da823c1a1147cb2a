"""The post-deploy smoke script, run against a local host that strips client-sent principals as App
Service Authentication does (PRINCIPAL_MODE=appservice): the same checks as in Azure, local URLs."""

from __future__ import annotations

import pytest

from scripts import smoke
from tests.conftest import RUN_DIR
from tests.support.clients import SECRET


@pytest.fixture(scope="module")
def appservice_host(app_env):
    from tests.support.stack import start_host

    process, base = start_host({**app_env, "PRINCIPAL_MODE": "appservice"}, RUN_DIR / "host-appservice.log")
    yield base
    process.terminate()
    process.wait(10)


def test_the_smoke_script_passes_against_a_good_deployment(appservice_host, standins, capsys):
    code = smoke.main(["--base-url", f"{appservice_host}/api", "--secret", SECRET,
                       "--admin-email", "smoke-admin@example.com",
                       "--mail-api", f"http://127.0.0.1:{standins.maildev_web_port}"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("ok  ") == 8 and "FAIL" not in out


def test_the_smoke_script_fails_when_the_principal_header_is_trusted(host, standins, capsys):
    """Against the usual local host (unverified-local: the header is trusted), check 2 must fail."""
    code = smoke.main(["--base-url", f"{host}/api", "--secret", SECRET, "--admin-email", "smoke2@example.com"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL a forged X-MS-CLIENT-PRINCIPAL is refused (401)" in out


def test_the_smoke_script_fails_with_the_wrong_secret(appservice_host, capsys):
    code = smoke.main(["--base-url", f"{appservice_host}/api", "--secret", "not-the-secret-0123456789",
                       "--admin-email", "smoke3@example.com"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL signed PUT" in out
