"""Stripe's search as Stripe documents it: eventually consistent, never for read-after-write.

"Under normal operating conditions, data is searchable in under 1 minute. Propagation of new or updated
data could be delayed during an outage" (docs.stripe.com/search, Data freshness). Here each object becomes
searchable after a delay of its own, drawn once from `lag` (seconds, low and high; 60 and 60 by default: a
minute, always); a search may also miss an object it could find (`miss`, a probability per object and
search), or a test may script that the next searches find nothing (`miss_next`). Draws are seeded, so a
failing run can be replayed.

The query language, as far as the stand-in speaks it: clauses joined by AND (OR, which Stripe also has, is a 400 here),
each `metadata['key']:'value'`, or `customer:'cus_...'`, `status:'...'`, `currency:'...'` or
`amount:NNN`. A clause the stand-in does not know is a 400, never an unfiltered answer.
"""

from __future__ import annotations

import random
import re

CLAUSE = re.compile(r"\s*(?:metadata\['([^']+)'\]|(customer|status|currency|amount)):(?:'([^']*)'|(\d+))\s*")


class StripeSearch:
    def __init__(self, lag: tuple[float, float] = (60.0, 60.0), miss: float = 0.0, seed: int = 0):
        self.lag, self.miss, self.miss_next = lag, miss, 0
        self._random = random.Random(seed)
        self._visible_at: dict[str, float] = {}

    def indexed(self, obj: dict) -> None:
        """A new object: when it becomes searchable."""
        low, high = self.lag
        self._visible_at[obj["id"]] = obj["created"] + self._random.uniform(low, high)

    def parse(self, query: str) -> list[tuple[str, str]] | None:
        """(field, value) clauses, `metadata.key` for metadata; None when the query is not understood."""
        parts = re.split(r"\s+AND\s+", query.strip())
        clauses = []
        for part in parts:
            match = CLAUSE.fullmatch(part)
            if not match or " OR " in part:
                return None
            key, field, text, number = match.groups()
            if field == "amount" and number is None or field != "amount" and text is None:
                return None
            clauses.append((f"metadata.{key}" if key else field, text if text is not None else number))
        return clauses or None

    def find(self, objects, clauses: list[tuple[str, str]], now: float) -> list[dict]:
        """What the index answers now: matches already searchable and not missed this time, newest first."""
        if self.miss_next:
            self.miss_next -= 1
            return []
        found = [
            obj
            for obj in objects
            if all(_value(obj, field) == value for field, value in clauses)
            and self._visible_at.get(obj["id"], obj["created"]) <= now
            and not (self.miss and self._random.random() < self.miss)
        ]
        return sorted(found, key=lambda obj: obj["created"], reverse=True)


def _value(obj: dict, field: str) -> str | None:
    if field.startswith("metadata."):
        return (obj.get("metadata") or {}).get(field.removeprefix("metadata."))
    value = obj.get(field)
    return None if value is None else str(value)
