"""What GET /api/health reports."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from importlib.metadata import version

import pastdue

log = logging.getLogger("pastdue")


def check(ping_store: Callable[[], object]) -> dict:
    """`ping_store` reads the database (the composition root hands it in); any failure is reported."""
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
