"""The e-mail quota (per minute and per hour), shared by every drain through one Cosmos document."""

from __future__ import annotations

from datetime import datetime, timedelta

from azure.core import MatchConditions
from azure.cosmos import exceptions

from pastdue.adapters.cosmos import read_or_none, transient_as_unavailable
from pastdue.adapters.store import StoreUnavailable
from pastdue.domain.codec import format_time, parse_time

QUOTA_ID = "email-quota"
TRIES = 20


class CosmosQuota:
    def __init__(self, container, per_minute: int, per_hour: int, quota_id: str = QUOTA_ID):
        self._container, self.per_minute, self.per_hour, self._id = container, per_minute, per_hour, quota_id

    def claim(self, wanted: int, now: datetime) -> int:
        """Reserve up to `wanted` sends now; returns how many were granted (0 when the quota is spent)."""
        for _ in range(TRIES):
            try:
                with transient_as_unavailable():
                    doc = self._read()
                    sent = [t for t in doc["sent"] if parse_time(t) > now - timedelta(hours=1)]
                    in_minute = sum(1 for t in sent if parse_time(t) > now - timedelta(minutes=1))
                    granted = max(0, min(wanted, self.per_minute - in_minute, self.per_hour - len(sent)))
                    if granted == 0:
                        return 0
                    doc["sent"] = sent + [format_time(now)] * granted
                    self._write(doc)
                return granted
            except (exceptions.CosmosAccessConditionFailedError, exceptions.CosmosResourceExistsError,
                    StoreUnavailable):
                continue  # another drain took quota first, or the answer was lost: count again
        return 0

    def _read(self) -> dict:
        return read_or_none(self._container, self._id, self._id) or {"id": self._id, "sent": []}

    def _write(self, doc: dict) -> None:
        if "_etag" in doc:
            self._container.replace_item(self._id, doc, etag=doc["_etag"],
                                         match_condition=MatchConditions.IfNotModified)
        else:
            self._container.create_item(doc)
