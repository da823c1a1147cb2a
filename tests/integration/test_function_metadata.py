"""What Azure indexes: the metadata azure-functions generates from function_app, and a cheap import."""

import json
import subprocess
import sys
from pathlib import Path

from tests.support.indexed import functions

ROOT = Path(__file__).resolve().parents[2]
HTTP = {
    "health": ("health", ["GET"]),
    "health_deep": ("health/deep", ["GET"]),
    "put_account": ("accounts/{accountId}", ["PUT"]),
    "put_subscription": ("accounts/{accountId}/subscriptions/{subscriptionId}", ["PUT"]),
    "charge_failed": ("webhooks/charge-failed", ["POST"]),
    "payment_received": ("webhooks/payment-received", ["POST"]),
    "get_account": ("accounts/{accountId}", ["GET"]),
    "update_payment": ("accounts/{accountId}/payment-method", ["PUT"]),
    "reactivate": ("accounts/{accountId}/subscriptions/{subscriptionId}/reactivate", ["POST"]),
    "admin_contact": ("accounts/{accountId}/admin-contact", ["PUT"]),
    "history": ("accounts/{accountId}/history", ["GET"]),
    "transfer_admin": ("accounts/{accountId}/transfer-admin", ["POST"]),
    "payment_setup": ("accounts/{accountId}/payment-method/setup", ["POST"]),
    "payment_confirmations": ("accounts/{accountId}/payment-confirmations", ["GET"]),
    "stripe_events": ("webhooks/stripe", ["POST"]),
    "my_accounts": ("me/accounts", ["GET"]),
    "support_accounts": ("support/accounts", ["GET"]),
    "support_notices": ("support/accounts/{accountId}/notices", ["GET"]),
    "support_resend_notice": ("support/accounts/{accountId}/notices/{noticeId}/resend", ["POST"]),
    "support_pause_dunning": ("support/accounts/{accountId}/dunning/pause", ["POST"]),
    "support_resume_dunning": ("support/accounts/{accountId}/dunning/resume", ["POST"]),
    "support_extend_grace": ("support/accounts/{accountId}/subscriptions/{subscriptionId}/extend-grace", ["POST"]),
    "support_write_off": ("support/accounts/{accountId}/charges/{chargeId}/write-off", ["POST"]),
}


def _bindings():
    return {f.get_function_name(): json.loads(f.get_function_json())["bindings"] for f in functions()}


def test_every_function_is_indexed_with_the_expected_trigger():
    bindings = _bindings()
    assert set(bindings) == set(HTTP) | {"daily_sweep", "sweep_shard", "send_notices", "email_events"}
    for name, (route, methods) in HTTP.items():
        trigger = next(b for b in bindings[name] if b["direction"] == "IN")
        assert (trigger["type"], trigger["route"], trigger["methods"]) == ("httpTrigger", route, methods)
        assert trigger["authLevel"] == "ANONYMOUS"  # App Service Authentication and signatures guard them
    sweep = bindings["daily_sweep"][0]
    assert (sweep["type"], sweep["schedule"], sweep["runOnStartup"]) == ("timerTrigger", "%SWEEP_SCHEDULE%", False)
    shard = bindings["sweep_shard"][0]
    assert (shard["type"], shard["queueName"], shard["connection"]) == ("queueTrigger", "%SWEEP_QUEUE%", "SweepQueue")
    drain = bindings["send_notices"][0]
    assert (drain["type"], drain["schedule"]) == ("timerTrigger", "0 * * * * *")
    assert bindings["email_events"][0]["type"] == "eventGridTrigger"


def test_importing_the_app_builds_no_azure_client():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    imported = {line.split("|")[-1].strip() for line in out.splitlines() if "|" in line}
    for heavy in (
        "azure.cosmos",
        "azure.identity",
        "azure.communication.email",
        "jinja2",
        "babel",
        "stripe",
        "opentelemetry",
        "azure.monitor.opentelemetry",
    ):
        assert heavy not in imported, f"{heavy} is imported at cold start"
    assert "azure.functions" in imported
