"""The last summary of each timer function in this process: what the local host's admin endpoint
answers after a run (in Azure the same summary is in the logs, one JSON line a run)."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_latest: dict[str, dict] = {}


def record(function: str, summary: dict) -> None:
    with _lock:
        _latest[function] = dict(summary)


def latest(function: str) -> dict | None:
    with _lock:
        return dict(_latest[function]) if function in _latest else None
