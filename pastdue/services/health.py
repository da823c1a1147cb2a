"""What GET /api/health (liveness, anonymous) and GET /api/health/deep (support only) report."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from importlib.metadata import version

import pastdue
from pastdue.settings import SettingsError

log = logging.getLogger("pastdue")


def live(load_settings: Callable[[], object]) -> dict:
    """Liveness for monitors (the availability test calls it every 5 minutes from five places): the process
    answers and its settings load. It reads no database and names no version: anyone may call it, and a
    call costs nothing. Settings the app refuses (a portal address left local in Azure, ...) make it
    "misconfigured" (a 503: pastdue.http.problems.liveness)."""
    try:
        load_settings()
    except SettingsError as error:
        log.error("health: the app refuses its settings: %s", error)
        return {"status": "misconfigured"}
    return {"status": "ok"}


def check(ping_store: Callable[[], object]) -> dict:
    """The deep check: versions, and one read of the database (`ping_store`, from the composition root);
    any failure is reported, not raised."""
    body = {
        "status": "ok",
        "version": pastdue.__version__,
        "python": platform.python_version(),
        "packages": {
            name: version(name)
            for name in ("azure-functions", "azure-cosmos", "azure-communication-email", "azure-identity")
        },
    }
    try:
        ping_store()
        body["cosmos"] = {"reachable": True}
    except Exception as error:  # health reports any failure instead of raising it
        log.warning("health: cosmos unreachable: %s", error)
        body["cosmos"] = {"reachable": False, "error": type(error).__name__}
        body["status"] = "degraded"
    return body
