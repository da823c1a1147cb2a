"""One source of local settings for the local host, the tour, try_it and the tests: the environment
first, then local.settings.json (as `func start` reads it), then these defaults; endpoints are derived
from the *_PORT variables unless set."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_WEBHOOK_SECRET = "local-webhook-secret-change-me"  # noqa: S105 - the local host's, public by design
PORTS = {"FUNCTIONS_PORT": 7071, "COSMOS_PORT": 8081, "SMTP_PORT": 1025, "MAILDEV_WEB_PORT": 1080, "QUEUE_PORT": 10001}
LOCAL_DEFAULTS = {
    "EMAIL_SENDER": "billing@pastdue.localhost",
    "BILLING_WEBHOOK_SECRET": LOCAL_WEBHOOK_SECRET,
    "PRINCIPAL_MODE": "unverified-local",
    "SWEEP_SCHEDULE": "0 0 2 * * *",
    "SWEEP_QUEUE": "sweep-shards",
    "SWEEP_SHARDS": "4",
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://localhost:5173",
    "PAYMENT_GATEWAY": "sandbox",
}


def file_values(path: Path | None = None) -> dict[str, str]:
    path = path or ROOT / "local.settings.json"
    if not path.exists():
        return {}
    return {k: str(v) for k, v in json.loads(path.read_text()).get("Values", {}).items()}


def value(name: str, default: str | None = None) -> str | None:
    """A setting as the local host sees it: environment, then local.settings.json, then the defaults."""
    if os.environ.get(name):
        return os.environ[name]
    from_file = file_values().get(name)
    if from_file:
        return from_file
    if name in PORTS:
        return str(PORTS[name])
    return LOCAL_DEFAULTS.get(name, default)


def required(name: str) -> str:
    """A setting the local host cannot run without (a port, the webhook secret): set, or a default."""
    found = value(name)
    if found is None:
        raise RuntimeError(f"the setting {name} is not set and has no local default")
    return found


def port(name: str) -> int:
    return int(required(name))


def webhook_secret() -> str:
    """The secret the local host accepts (the first one, when several are listed for rotation)."""
    return required("BILLING_WEBHOOK_SECRET").split(",")[0].strip()


def base_url() -> str:
    return os.environ.get("PASTDUE_URL") or f"http://localhost:{port('FUNCTIONS_PORT')}"


def mail_url() -> str:
    return f"http://localhost:{port('MAILDEV_WEB_PORT')}"
