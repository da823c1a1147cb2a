"""python -m devhost.tour [--ending pay|delete]: a narrated walk through a past-due subscription's whole
lifecycle against a running `make run`, on the local host's test clock (business time only).

A French-speaking admin's card fails; the daily sweep retries it, sends reminders and disables the
subscription on day 30; then a new card pays everything and brings it back (`--ending pay`, the default),
or the deletion warnings run out and its data is deleted on day 120 (`--ending delete`). Each step says
what happened and where to look. The clock is set to now before and after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx

from devhost.local_settings import base_url, mail_url, webhook_secret
from pastdue.http.principal import encode_principal
from pastdue.http.signing import sign

ADMIN = "00000000-0000-0000-0000-00000000700a"


class TourError(Exception):
    """Something a newcomer can fix, said plainly."""


class Tour:
    def __init__(self, base: str, mail: str, secret: str):
        self.http = httpx.Client(base_url=base, timeout=120)
        self.mail = httpx.Client(base_url=mail, timeout=30)
        self.base, self.mail_base, self.secret = base, mail, secret
        self.account = f"tour-{uuid.uuid4().hex[:6]}"
        self.email = f"admin@{self.account}.example"
        self.portal = {"X-MS-CLIENT-PRINCIPAL": encode_principal(ADMIN, name="Ada")}
        self.seen = 0

    # --- talking to the host -----------------------------------------------------------------------------
    def billing(self, method: str, path: str, body: dict) -> dict:
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Webhook-Signature": sign(self.secret, method, f"/api{path}", raw, int(time.time())),
        }
        answer = self.http.request(method, f"/api{path}", content=raw, headers=headers)
        if answer.status_code == 401:
            raise TourError(
                "the local host refused the tour's signature: its BILLING_WEBHOOK_SECRET differs from "
                "the one the tour read (environment, then local.settings.json). "
                "Use the same value in both."
            )
        if answer.status_code >= 400:
            raise TourError(f"{method} /api{path} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def view(self) -> dict:
        return self.http.get(f"/api/accounts/{self.account}", headers=self.portal).json()

    def history(self) -> list[dict]:
        entries = self.http.get(
            f"/api/accounts/{self.account}/history", params={"limit": 500}, headers=self.portal
        ).json()["entries"]
        return list(reversed(entries))

    def clock(self, **change) -> str:
        return self.http.post("/admin/clock", json=change).json()["now"]

    def sweep(self) -> None:
        answer = self.http.post("/admin/functions/daily_sweep")
        if answer.status_code != 202:
            raise TourError(f"daily_sweep failed: {answer.text}")

    def emails(self) -> list[dict]:
        try:
            self.http.post("/admin/settle")  # notices go out right after each answer: wait for them
            inbox = self.mail.get("/api/email").json()
        except httpx.HTTPError:
            return []
        return [m for m in inbox if any(t.get("address") == self.email for t in m.get("to", []))]

    # --- the story ---------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def news(self, day: int) -> None:
        """What the day brought, from the account's history."""
        entries = self.history()
        new, self.seen = entries[self.seen :], len(entries)
        lines = []
        for entry in new:
            kind, detail = entry["kind"], entry["detail"]
            if kind == "charge.declined":
                lines.append(f"retried the card: declined ({detail.get('code')})")
            elif kind == "charge.succeeded":
                lines.append(f"charged {detail['amount']['value'] / 100:.2f} {detail['amount']['currency']}")
            elif kind == "notice.queued":
                lines.append(f"notice queued: {detail['notice']}")
            elif kind in (
                "subscription.disabled",
                "subscription.reactivated",
                "subscription.data.deleted",
                "subscription.recovered",
                "payment.method.updated",
            ):
                lines.append(kind.replace("subscription.", "subscription ").replace(".", " "))
        if lines:
            self.say(f"  day {day:>3}: " + "; ".join(lines))

    def run(self, ending: str) -> None:
        try:
            health = self.http.get("/api/health")
        except httpx.HTTPError:
            raise TourError(
                f"nothing answers at {self.base}: start the local host with `make run` "
                "(or set PASTDUE_URL / FUNCTIONS_PORT)"
            ) from None
        if health.status_code != 200:
            raise TourError(f"{self.base}/api/health answered {health.status_code}")
        start = self.clock(set=datetime.now(UTC).isoformat())
        try:
            self.story(ending, start)
        finally:
            self.clock(set=datetime.now(UTC).isoformat())
            header = self.portal["X-MS-CLIENT-PRINCIPAL"]
            self.say(
                f"\nThe test clock is back to now. Look around: the inbox {self.mail_base}, the account\n"
                f"  curl -s {self.base}/api/accounts/{self.account} -H 'X-MS-CLIENT-PRINCIPAL: {header}'\n"
                f"  and its history at /api/accounts/{self.account}/history."
            )

    def story(self, ending: str, start: str) -> None:
        self.say(
            f"Business time starts at {start[:16]}. The billing system creates account {self.account} "
            "(admin Ada, French) with a card that will keep failing, and a subscription 'Production'."
        )
        self.billing(
            "PUT",
            f"/accounts/{self.account}",
            {
                "admin": {"principalId": ADMIN, "email": self.email, "name": "Ada", "locale": "fr-FR"},
                "paymentMode": "card",
                "paymentMethodToken": "tok_chargeCustomerFail",
            },
        )
        self.billing("PUT", f"/accounts/{self.account}/subscriptions/sub-prod", {"displayName": "Production"})
        self.say("\nDay 0: the monthly charge of 1 234,56 EUR fails (POST /api/webhooks/charge-failed).")
        self.billing(
            "POST",
            "/webhooks/charge-failed",
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "charge.failed",
                "createdAt": start[:19] + "Z",
                "data": {
                    "accountId": self.account,
                    "subscriptionId": "sub-prod",
                    "chargeId": f"{self.account}-ch1",
                    "amount": {"value": 123456, "currency": "EUR"},
                    "declineCode": "card_declined",
                },
            },
        )
        self.news(0)
        mails = self.emails()
        if mails:
            self.say(f"  the e-mail to {self.email}:\n    subject: {mails[0]['subject']}")
            for line in (mails[0].get("text") or "").strip().splitlines()[:4]:
                self.say(f"    | {line}")
        view = self.view()
        self.say(f"  the portal shows: {view['alerts'][0]['message']}")
        self.say("\nThe daily sweep runs every day (POST /admin/functions/daily_sweep) on the test clock:")
        for day in range(1, 31):
            self.clock(advance="P1D")
            self.sweep()
            self.news(day)
        state = self.view()["subscriptions"][0]
        self.say(
            f"\nDay 30: the subscription is {state['state']}; its data is to be deleted on "
            f"{state.get('deletionScheduledAt', '?')[:10]}."
        )
        if ending == "pay":
            self.say("\nDay 31: Ada adds a working card (PUT /api/accounts/{id}/payment-method): everything is paid.")
            self.clock(advance="P1D")
            answer = self.http.put(
                f"/api/accounts/{self.account}/payment-method",
                json={"paymentMethodToken": "tok_visa"},
                headers={**self.portal, "Idempotency-Key": f"tour-{uuid.uuid4().hex}"},
            )
            self.news(31)
            after = answer.json()["account"]["subscriptions"][0]
            self.say(f"  pay-now answered {answer.status_code}; the subscription is {after['state']} again.")
            return
        for day in range(31, 121):
            self.clock(advance="P1D")
            self.sweep()
            self.news(day)
        self.say(
            f"\nDay 120: the subscription is {self.view()['subscriptions'][0]['state']}: its data is gone, "
            "after three deletion warnings."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devhost.tour", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ending", choices=("pay", "delete"), default="pay")
    args = parser.parse_args(argv)
    try:
        Tour(base_url(), mail_url(), webhook_secret()).run(args.ending)
    except TourError as error:
        print(f"tour stopped: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
