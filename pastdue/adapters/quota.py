"""The e-mail quota's port (per minute and per hour): what a drain may send now. Its Cosmos adapter is
pastdue/adapters/cosmos/quota.py."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pastdue.domain.codec import format_time


def windows(now: datetime) -> tuple[str, str]:
    """The clock minute and the clock hour `now` falls in (UTC): 2026-11-29T11:55 and 2026-11-29T11."""
    stamp = format_time(now)
    return stamp[:16], stamp[:13]


class EmailQuota(Protocol):
    per_minute: int
    per_hour: int

    def claim(self, wanted: int, now: datetime) -> int:
        """Reserve up to `wanted` sends now; returns how many were granted (0 when the quota is spent)."""
        ...
