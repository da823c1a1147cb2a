"""A test's own requests in the local host's log. The host writes one line per API call, with the caller's
X-Request-Id (devhost/host.py); a test that sends its requests with an id of its own finds them there, so
what it reads is the log of the host that served them, from where it stood when the test began."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx


class OwnRequests:
    """The id a test's requests carry, the answers they got, and the host log from where it stood."""

    def __init__(self, log: Path):
        self.log = log
        self.start = log.stat().st_size if log.exists() else 0
        self.request_id = f"test-{uuid.uuid4().hex}"
        self.answered = 0

    def client(self, base_url: str) -> httpx.Client:
        """An HTTP client whose every request carries the id, and whose every answer is counted."""

        def counted(_: httpx.Response) -> None:
            self.answered += 1

        return httpx.Client(
            base_url=base_url,
            timeout=60,
            headers={"X-Request-Id": self.request_id},
            event_hooks={"response": [counted]},
        )

    def text(self) -> str:
        """What the host wrote since the test began."""
        return self.log.read_bytes()[self.start :].decode("utf-8", "replace")

    def problems(self) -> list[str]:
        """Why this log slice is not a clean record of the test's requests: each answer the test got has its
        line (the host writes it before it answers), and nothing in it is a traceback."""
        text, found = self.text(), []
        lines = text.count(f" id={self.request_id}")
        if lines != self.answered:
            found.append(
                f"{self.log} holds {lines} line(s) with the test's request id {self.request_id}, for "
                f"{self.answered} answer(s): not the log of the host that answered them"
            )
        shown = traceback_in(text)
        if shown is not None:
            found.append(f"{self.log} holds a traceback:\n{shown}")
        return found


def traceback_in(text: str) -> str | None:
    """The first traceback a host's log holds, with the lines before it that say what it was doing."""
    at = text.find("Traceback")
    return text[max(0, at - 500) : at + 2000] if at >= 0 else None


__all__ = ["OwnRequests", "traceback_in"]
