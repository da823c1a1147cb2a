"""Driving the local host: its test clock, non-HTTP functions, and the maildev inbox."""

from __future__ import annotations

import httpx


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
        inbox = self.mail.get("/api/email").json()
        return [m for m in inbox if any(t["address"] == address for t in m.get("to", []))]
