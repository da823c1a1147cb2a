"""Driving the local host: its test clock, non-HTTP functions, and the maildev inbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx

from tests.support.waiting import DEADLINE_SECONDS, until

T = TypeVar("T")


class HostTools:
    def __init__(self, base: str, maildev_port: int):
        self.http = httpx.Client(base_url=base, timeout=300)
        self.mail = httpx.Client(base_url=f"http://127.0.0.1:{maildev_port}", timeout=30)

    def now(self) -> str:
        return self.http.get("/admin/clock").json()["now"]

    def epoch_clock(self):
        """The host's test clock as epoch seconds, for a stand-in that must follow it (Stripe's key expiry)."""
        from datetime import datetime

        client = httpx.Client(base_url=str(self.http.base_url), timeout=30)

        def now() -> float:
            return datetime.fromisoformat(client.get("/admin/clock").json()["now"].replace("Z", "+00:00")).timestamp()

        return now

    def advance(self, duration: str) -> str:
        answer = self.http.post("/admin/clock", json={"advance": duration})
        assert answer.status_code == 200, answer.text
        return answer.json()["now"]

    def set_clock(self, when: str) -> str:
        return self.http.post("/admin/clock", json={"set": when}).json()["now"]

    def settle(self) -> None:
        """Wait until the notices queued by earlier calls are sent (they go out after the answer)."""
        answer = self.http.post("/admin/settle")
        assert answer.status_code == 200, answer.text

    def run(self, function: str) -> dict:
        answer = self.http.post(f"/admin/functions/{function}")
        assert answer.status_code == 202, answer.text
        return answer.json()

    def emails_to(self, address: str) -> list[dict]:
        self.settle()
        return self.inbox(address)

    def inbox(self, address: str) -> list[dict]:
        """What maildev holds for the address now."""
        inbox = self.mail.get("/api/email").json()
        return [m for m in inbox if any(t["address"] == address for t in m.get("to", []))]

    def notices_out(self, evidence: Callable[[], T], seconds: float = DEADLINE_SECONDS) -> T:
        """Wait for the evidence (truthy) that the notices earlier calls queued went out, and return it (or
        the last answer, for the test to assert on). They are sent right after the answer, on a background
        thread a busy machine may run late; writers racing on the account (or on the e-mail quota) may
        also leave them queued, which the design allows: then send_notices, the timer's drain, sends them.
        So: settle, ask within a generous deadline, and if they are still not out, drain as the timer would
        and ask again."""
        self.settle()
        answer = until(evidence, seconds)
        if answer:
            return answer
        self.run("send_notices")
        self.settle()
        return until(evidence, seconds)

    def emails_arrived(self, address: str, count: int = 1, seconds: float = DEADLINE_SECONDS) -> list[dict]:
        """The e-mails to the address once at least `count` arrived (what is there when the wait ends)."""
        self.notices_out(lambda: len(self.inbox(address)) >= count, seconds)
        return self.inbox(address)
