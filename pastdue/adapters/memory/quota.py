"""The e-mail quota in memory (the port: pastdue/adapters/quota.py; on Cosmos: cosmos/quota.py), counted as
the Cosmos one counts it: the sends of the current clock minute and of the current clock hour (fixed
windows), never more than either limit between every caller."""

from __future__ import annotations

import threading
from datetime import datetime

from pastdue.adapters.quota import EmailQuota, windows


class MemoryQuota(EmailQuota):
    def __init__(self, per_minute: int = 1000, per_hour: int = 1000) -> None:
        self.per_minute, self.per_hour = per_minute, per_hour
        self.minute = self.hour = ""  # the windows the counts are of
        self.sent_in_minute = self.sent_in_hour = 0
        self._lock = threading.Lock()

    def claim(self, wanted: int, now: datetime) -> int:
        minute, hour = windows(now)
        with self._lock:
            used_minute = self.sent_in_minute if self.minute == minute else 0
            used_hour = self.sent_in_hour if self.hour == hour else 0
            granted = max(0, min(wanted, self.per_minute - used_minute, self.per_hour - used_hour))
            if granted:
                self.minute, self.sent_in_minute = minute, used_minute + granted
                self.hour, self.sent_in_hour = hour, used_hour + granted
            return granted
