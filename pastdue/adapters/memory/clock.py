"""A clock that moves only when a test moves it (the port: pastdue/adapters/clock.py; AdjustableClock there
is real time plus an offset, which keeps running)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.adapters.clock import Clock


class MemoryClock(Clock):
    """Business time stopped at `at`, an aware time as SystemClock's is (a naive one is refused)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    @property
    def at(self) -> datetime:
        return self._at

    @at.setter
    def at(self, when: datetime) -> None:
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"the clock keeps aware times only, not {when!r}")
        self._at = when

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> datetime:
        self.at = self._at + delta
        return self._at

    def set(self, when: datetime) -> datetime:
        self.at = when
        return self._at
