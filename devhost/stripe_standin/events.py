"""Events and their webhook delivery: every change the stand-in makes is an event in Stripe's shape (checked
against Stripe's schemas when asked), posted signed (`Stripe-Signature: t=...,v1=...`, HMAC-SHA256 with the
webhook secret) to the webhook URL: soon after the API answer (`async`, the default), before it (`before`),
or held (`manual`) to be delivered later, more than once, in reverse order (`deliver_held`). Every delivery
is recorded with what the app answered (`state.deliveries`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import httpx

from devhost.stripe_shapes import complete
from devhost.stripe_standin.constants import API_VERSION
from devhost.stripe_standin.state import StandInBase


class Events(StandInBase):
    def _event(self, kind: str, obj: dict) -> None:
        event = {
            "id": self.state.new_id("evt"),
            "object": "event",
            "type": kind,
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "livemode": False,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        event = complete(event)
        if self.contract:
            self.contract.event(event)
        if not self.state.webhook_url:
            return
        if self.state.delivery == "before":
            self.deliver(event)
        elif self.state.delivery == "manual":
            self.state.held_events.append(event)
        else:
            threading.Timer(0.05, self.deliver, args=(event,)).start()

    def deliver(self, event: dict, times: int = 1) -> list[int]:
        raw = json.dumps(event).encode()
        answers: list[int] = []
        if not self.state.webhook_url or not self.state.webhook_secret:
            raise RuntimeError("the Stripe stand-in has no webhook address and secret to deliver to")
        for _ in range(times):
            stamp = int(time.time())
            digest = hmac.new(self.state.webhook_secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
            try:
                answer = httpx.post(
                    self.state.webhook_url,
                    content=raw,
                    timeout=60,
                    headers={
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}",
                    },
                )
                answers.append(answer.status_code)
                said = answer.text
            except httpx.HTTPError:
                answers.append(0)
                said = ""
            with self.state.lock:
                self.state.deliveries.append(
                    {
                        "id": event["id"],
                        "type": event["type"],
                        "object": event["data"]["object"].get("id"),
                        "status": answers[-1],
                        "answer": said,
                    }
                )
        return answers

    def deliver_held(self, times: int = 1, reverse: bool = False) -> list[int]:
        """Deliver what was held (`times` each; newest first with `reverse`, as Stripe does not promise order)."""
        with self.state.lock:
            held, self.state.held_events = self.state.held_events, []
        if reverse:
            held.reverse()
        return [code for event in held for code in self.deliver(event, times)]
