"""What operators and monitors see of the app: the health routes, the support CLI's credential, the smoke
script's defaults, and test accounts that remove themselves."""

from __future__ import annotations

import json
import sys

import azure.functions as func
import pytest

from pastdue import bootstrap
from pastdue.http.principal import encode_principal
from pastdue.settings import SettingsError, load_settings
from tests.support.indexed import functions
from tests.unit.test_settings import GOOD


def handler(name: str):
    return next(f for f in functions() if f.get_function_name() == name).get_user_function()


def _get(route: str, headers: dict | None = None) -> func.HttpResponse:
    return handler({"health": "health", "health/deep": "health_deep"}[route])(
        func.HttpRequest("GET", f"https://func.example/api/{route}", headers=headers or {}, body=b"")
    )


@pytest.fixture()
def pings(monkeypatch):
    settings = load_settings(GOOD)
    monkeypatch.setattr(bootstrap, "settings", lambda: settings)
    calls = []
    monkeypatch.setattr(bootstrap, "ping_store", lambda: calls.append("read"))
    return calls


def test_liveness_answers_anyone_without_a_database_read_or_a_version(pings):
    answer = _get("health")
    assert answer.status_code == 200 and json.loads(answer.get_body()) == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"
    assert pings == []  # no Cosmos read, however often monitors call


def test_liveness_is_503_while_the_app_refuses_its_settings(monkeypatch, caplog):
    def refused():
        raise SettingsError("PORTAL_BASE_URL must be the portal's public https:// address")

    monkeypatch.setattr(bootstrap, "settings", refused)
    answer = _get("health")
    assert answer.status_code == 503 and json.loads(answer.get_body()) == {"status": "misconfigured"}
    assert "PORTAL_BASE_URL" in caplog.text and "PORTAL_BASE_URL" not in answer.get_body().decode()


def test_the_deep_check_is_for_support_only_and_reads_the_database(pings):
    assert _get("health/deep").status_code == 401
    admin = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-admin")}
    assert _get("health/deep", admin).status_code == 403
    assert pings == []
    support = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-support", ("Billing.Support",))}
    answer = _get("health/deep", support)
    body = json.loads(answer.get_body())
    assert answer.status_code == 200 and body["cosmos"] == {"reachable": True} and body["packages"]
    assert pings == ["read"]


def test_the_support_cli_asks_the_azure_cli_for_its_token_and_nothing_else(monkeypatch):
    import azure.identity

    from pastdue import support_cli as support

    asked = []

    class Cli:
        def get_token(self, scope):
            asked.append(scope)
            return type("Token", (), {"token": "t0k"})()

    def chain(*args, **kwargs):
        raise AssertionError("a credential chain may pick another tool's sign-in")

    monkeypatch.setattr(azure.identity, "AzureCliCredential", Cli)
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", chain)
    client = support.Client("https://func.example/api", scope="api://portal/.default")
    assert client.headers["Authorization"] == "Bearer t0k" and asked == ["api://portal/.default"]


def test_the_support_cli_says_to_sign_in_when_the_azure_cli_has_no_token(monkeypatch):
    import azure.identity
    from azure.core.exceptions import ClientAuthenticationError

    from pastdue import support_cli as support

    class Cli:
        def get_token(self, scope):
            raise ClientAuthenticationError("Please run 'az login' to set up an account")

    monkeypatch.setattr(azure.identity, "AzureCliCredential", Cli)
    with pytest.raises(support.ApiError, match="run az login first"):
        support.Client("https://func.example/api", scope="api://portal/.default")


def test_the_support_cli_runs_the_deep_health_check(capsys):
    from pastdue import support_cli as support

    class Client(support.Client):
        def __init__(self) -> None:  # no API, no credential: `call` answers
            pass

        def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
            assert (method, path) == ("GET", "/health/deep")
            return {"status": "ok", "cosmos": {"reachable": True}}

    args = support.parser().parse_args(["health"])
    assert support.run(args, Client(), sys.stdout) == 0
    assert '"reachable": true' in capsys.readouterr().out


def test_the_smoke_script_writes_nothing_unless_told_and_then_only_to_a_given_address(monkeypatch):
    from scripts import smoke

    made = []

    class Recorder:
        def __init__(self, base, secret, admin_email, mail_api, dry):
            made.append((admin_email, dry))

        def run(self):
            return 0

    monkeypatch.setattr(smoke, "Smoke", Recorder)
    base = ["--base-url", "https://func.example/api", "--secret", "s" * 20]
    assert smoke.main(base) == 0 and made[-1] == (None, True)
    assert smoke.main([*base, "--dry"]) == 0 and made[-1] == (None, True)
    assert smoke.main([*base, "--write", "--admin-email", "sink@example.com"]) == 0
    assert made[-1] == ("sink@example.com", False)
    with pytest.raises(SystemExit):
        smoke.main([*base, "--write"])  # no address: no e-mail goes anywhere by accident


def test_a_test_account_removes_itself_and_a_real_one_never_does():
    from pastdue.adapters.documents import SYNTHETIC_TTL_SECONDS, to_document
    from tests.unit.builders import account

    real = account()
    assert "ttl" not in to_document(real)
    real.synthetic = True
    assert to_document(real)["ttl"] == SYNTHETIC_TTL_SECONDS == 14 * 86_400
