"""Requests paced under a service's documented rate limits, per endpoint, in one process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """At most `per_second` requests a second for each endpoint (its own rate for those in `rates`): a
    request that comes too soon after the one before waits for its turn. Turns are handed out under a
    lock, so parallel callers are spaced too, and each waits outside it."""

    def __init__(
        self,
        per_second: float,
        rates: dict[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._interval = 1.0 / per_second
        self._intervals = {name: 1.0 / rate for name, rate in (rates or {}).items()}
        self._clock, self._sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, endpoint: str) -> float:
        """Wait for this endpoint's next turn; returns how long it waited."""
        with self._lock:
            now = self._clock()
            turn = max(now, self._next.get(endpoint, now))
            self._next[endpoint] = turn + self._intervals.get(endpoint, self._interval)
        delay = turn - now
        if delay > 0:
            self._sleep(delay)
        return delay
