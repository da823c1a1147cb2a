"""What GET /api/health reports."""

from __future__ import annotations

import logging
import platform
from importlib.metadata import version

import pastdue

log = logging.getLogger("pastdue")


def check() -> dict:
    from pastdue import bootstrap

    body = {"status": "ok", "version": pastdue.__version__, "python": platform.python_version(),
            "packages": {name: version(name) for name in
                         ("azure-functions", "azure-cosmos", "azure-communication-email", "azure-identity")}}
    try:
        bootstrap.cosmos_client().get_database_client(bootstrap.settings().cosmos_database).read()
        body["cosmos"] = {"reachable": True}
    except Exception as error:  # health reports any failure instead of raising it
        log.warning("health: cosmos unreachable: %s", error)
        body["cosmos"] = {"reachable": False, "error": type(error).__name__}
        body["status"] = "degraded"
    return body
