"""What each Cosmos store adapter holds: its container, and how long archived items live."""

from __future__ import annotations

from azure.cosmos import ContainerProxy

DAY_SECONDS = 86_400


class OnContainer:
    def __init__(self, container: ContainerProxy, retention_days: int = 2557):
        self._container = container
        self._ttl = retention_days * DAY_SECONDS
