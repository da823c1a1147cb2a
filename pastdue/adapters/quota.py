"""The e-mail quota (per minute and per hour), shared by every drain through one Cosmos document."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain.codec import format_time, parse_time

QUOTA_ID = "email-quota"


class CosmosQuota:
    def __init__(self, container, per_minute: int, per_hour: int, clock=None):
        self._container, self.per_minute, self.per_hour = container, per_minute, per_hour

    def claim(self, wanted: int, now: datetime) -> int:
        """Reserve up to `wanted` sends now; returns how many were granted (0 when the quota is spent)."""
        from azure.core import MatchConditions
        from azure.cosmos import exceptions

        for _ in range(20):
            found = list(self._container.query_items(
                "SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": QUOTA_ID}],
                partition_key=QUOTA_ID))
            doc = found[0] if found else {"id": QUOTA_ID, "sent": []}
            hour_ago, minute_ago = now - timedelta(hours=1), now - timedelta(minutes=1)
            sent = [t for t in doc["sent"] if parse_time(t) > hour_ago]
            in_minute = sum(1 for t in sent if parse_time(t) > minute_ago)
            granted = max(0, min(wanted, self.per_minute - in_minute, self.per_hour - len(sent)))
            if granted == 0:
                return 0
            doc["sent"] = sent + [format_time(now)] * granted
            try:
                if "_etag" in doc:
                    self._container.replace_item(QUOTA_ID, doc, etag=doc["_etag"],
                                                 match_condition=MatchConditions.IfNotModified)
                else:
                    self._container.create_item(doc)
                return granted
            except (exceptions.CosmosAccessConditionFailedError, exceptions.CosmosResourceExistsError):
                continue
        return 0
