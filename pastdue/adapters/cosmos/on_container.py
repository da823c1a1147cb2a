"""What each Cosmos store adapter holds: its container, and how long archived items live."""

from __future__ import annotations

from azure.cosmos import ContainerProxy

from pastdue.domain.retention import DEFAULT_RETENTION_DAYS

DAY_SECONDS = 86_400


class OnContainer:
    def __init__(self, container: ContainerProxy, retention_days: int = DEFAULT_RETENTION_DAYS):
        self._container = container
        self._ttl = retention_days * DAY_SECONDS
