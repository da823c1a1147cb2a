"""The e-mail quota (per minute and per hour), shared by every drain through one Cosmos document of a fixed
size: a counter for the current clock minute and one for the current clock hour (fixed windows), taken
with If-Match so that racing drains never grant more than the limits between them."""

from __future__ import annotations

from datetime import datetime

from azure.core import MatchConditions
from azure.cosmos import exceptions

from pastdue.adapters.cosmos.connection import read_or_none, transient_as_unavailable
from pastdue.adapters.quota import windows
from pastdue.adapters.store import StoreUnavailable

QUOTA_ID = "email-quota"
TRIES = 20


class CosmosQuota:
    def __init__(self, container, per_minute: int, per_hour: int, quota_id: str = QUOTA_ID):
        self._container, self.per_minute, self.per_hour, self._id = container, per_minute, per_hour, quota_id

    def claim(self, wanted: int, now: datetime) -> int:
        """Reserve up to `wanted` sends now; returns how many were granted (0 when the quota is spent)."""
        minute, hour = windows(now)
        for _ in range(TRIES):
            try:
                with transient_as_unavailable():
                    doc = self._read()
                    used_minute = doc.get("sentInMinute", 0) if doc.get("minute") == minute else 0
                    used_hour = doc.get("sentInHour", 0) if doc.get("hour") == hour else 0
                    granted = max(0, min(wanted, self.per_minute - used_minute, self.per_hour - used_hour))
                    if granted == 0:
                        return 0
                    doc.update(
                        minute=minute, sentInMinute=used_minute + granted, hour=hour, sentInHour=used_hour + granted
                    )
                    doc.pop("sent", None)  # the list of send times an earlier release kept
                    self._write(doc)
                return granted
            except (
                exceptions.CosmosAccessConditionFailedError,
                exceptions.CosmosResourceExistsError,
                StoreUnavailable,
            ):
                continue  # another drain took quota first, or the answer was lost: count again
        return 0

    def _read(self) -> dict:
        return read_or_none(self._container, self._id, self._id) or {"id": self._id}

    def _write(self, doc: dict) -> None:
        if "_etag" in doc:
            self._container.replace_item(
                self._id, doc, etag=doc["_etag"], match_condition=MatchConditions.IfNotModified
            )
        else:
            self._container.create_item(doc)
