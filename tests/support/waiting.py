"""Waiting for evidence, on a machine that may be busy: ask again until it is there or a generous deadline
has passed, and hand back the last answer for the test to assert on (a wait never decides a test itself)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
# Long enough for a machine running two suites on two cores; a test that is green waits only as long as
# its evidence takes to come.
DEADLINE_SECONDS = 120.0


def until(check: Callable[[], T], seconds: float = DEADLINE_SECONDS, every: float = 0.2) -> T:
    """Call `check` until it answers something truthy, or `seconds` have passed; its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(every)
