"""python -m scripts.smoke: after `azd up`, check the deployed app from the outside.

    .venv/bin/python -m scripts.smoke --base-url "$(azd env get-value API_BASE_URL)" \
        --secret "$BILLING_WEBHOOK_SECRET"

Checks, each printed as ok/FAIL (exit 1 if any failed):
  1. GET /api/health answers 200 (alive, its settings accepted);
  2. a forged X-MS-CLIENT-PRINCIPAL gets 401 (App Service Authentication strips what a client sends);
  3. an unsigned webhook gets 401;
  4. only with --write: signed test events are accepted: an account `smoke-<time>` whose admin is
     --admin-email, a subscription, a failed charge of 1.00 EUR (its notice goes to --admin-email at once),
     then a transfer that settles it (a receipt follows), so the test account ends paid and is never dunned.
     The account is sent `synthetic: true`: the app counts it in no metric (the dashboard and the alerts
     never see it), and it deletes itself 14 days after its last write (Cosmos TTL);
  5. with --write and --mail-api (the local maildev), the notice is found in the inbox.

By default only 1 to 3 run: nothing is written and no e-mail is sent (the check after every deployment).
--write sends two real e-mails, which count against the sender domain's quota (an Azure-managed domain: 10
an hour): give --admin-email a sink, a mailbox kept for these tests, never a customer's or a person's inbox.
--secret may be the setting's value as it is, two secrets while rotating ("new,old"): the first signs.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from urllib.parse import urlsplit

import httpx

from pastdue.http.signing import sign


class Smoke:
    def __init__(self, base_url: str, secret: str, admin_email: str | None, mail_api: str | None, dry: bool = True):
        self.base = base_url.rstrip("/")
        self.prefix = urlsplit(self.base).path  # "/api"
        self.http = httpx.Client(timeout=60)
        # The app accepts any of the comma-separated secrets; one request is signed with one of them.
        self.secret = next((s.strip() for s in secret.split(",") if s.strip()), "")
        self.admin_email, self.mail_api, self.dry = admin_email, mail_api, dry
        self.account_id = f"smoke-{int(time.time())}"
        self.failures = 0

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        print(f"{'ok  ' if ok else 'FAIL'} {what}{f': {detail}' if detail and not ok else ''}", flush=True)
        self.failures += 0 if ok else 1
        return ok

    def signed(self, method: str, route: str, body: dict) -> httpx.Response:
        raw = json.dumps(body).encode()
        header = sign(self.secret, method, f"{self.prefix}{route}", raw, int(time.time()))
        return self.http.request(
            method,
            f"{self.base}{route}",
            content=raw,
            headers={"Content-Type": "application/json", "Webhook-Signature": header},
        )

    def run(self) -> int:
        try:
            health = self.http.get(f"{self.base}/health")
            body = health.json() if health.status_code == 200 else {}
            self.check(
                "health answers (alive, settings accepted)",
                health.status_code == 200 and body.get("status") == "ok",
                f"{health.status_code} {health.text[:200]}",
            )
        except httpx.HTTPError as error:
            self.check("health answers", False, f"{type(error).__name__}: {error}")
            return 1
        forged = base64.b64encode(json.dumps({"claims": [{"typ": "oid", "val": "forged-admin"}]}).encode()).decode()
        answer = self.http.get(f"{self.base}/accounts/{self.account_id}", headers={"X-MS-CLIENT-PRINCIPAL": forged})
        self.check(
            "a forged X-MS-CLIENT-PRINCIPAL is refused (401)",
            answer.status_code == 401,
            f"{answer.status_code}: the app trusts a principal header the client sent",
        )
        answer = self.http.post(
            f"{self.base}/webhooks/charge-failed", content=b"{}", headers={"Content-Type": "application/json"}
        )
        self.check("an unsigned webhook is refused (401)", answer.status_code == 401, str(answer.status_code))
        if self.dry:
            print(
                f"{'all checks passed' if not self.failures else f'{self.failures} check(s) failed'}"
                " (nothing written; --write for the signed events)"
            )
            return 1 if self.failures else 0
        self.events()
        if self.mail_api:
            self.inbox()
        print(
            f"{'all checks passed' if not self.failures else f'{self.failures} check(s) failed'}"
            f" (test account {self.account_id})"
        )
        return 1 if self.failures else 0

    def events(self) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        steps: list[tuple[str, str, dict[str, object], tuple[int, ...]]] = [
            (
                "PUT",
                f"/accounts/{self.account_id}",
                {
                    "admin": {"principalId": "smoke-test", "email": self.admin_email, "name": "Smoke test"},
                    "paymentMode": "card",
                    "synthetic": True,
                },
                (200, 201),
            ),
            ("PUT", f"/accounts/{self.account_id}/subscriptions/smoke", {"displayName": "Smoke test"}, (200, 201)),
            (
                "POST",
                "/webhooks/charge-failed",
                {
                    "id": f"evt_{self.account_id}_failed",
                    "type": "charge.failed",
                    "createdAt": now,
                    "data": {
                        "accountId": self.account_id,
                        "subscriptionId": "smoke",
                        "chargeId": f"{self.account_id}-ch",
                        "amount": {"value": 100, "currency": "EUR"},
                        "declineCode": "card_declined",
                    },
                },
                (200,),
            ),
            (
                "POST",
                "/webhooks/payment-received",
                {
                    "id": f"evt_{self.account_id}_paid",
                    "type": "payment.received",
                    "createdAt": now,
                    "data": {
                        "accountId": self.account_id,
                        "amount": {"value": 100, "currency": "EUR"},
                        "reference": "smoke test",
                    },
                },
                (200,),
            ),
        ]
        for method, route, body, expected in steps:
            answer = self.signed(method, route, body)
            self.check(
                f"signed {method} {route} accepted",
                answer.status_code in expected,
                f"{answer.status_code} {answer.text[:200]}",
            )

    def inbox(self) -> None:
        assert self.mail_api is not None  # run() reads the inbox only with --mail-api
        deadline = time.monotonic() + 30
        found: list[dict] = []
        while time.monotonic() < deadline and not found:
            messages = self.http.get(f"{self.mail_api.rstrip('/')}/api/email").json()
            found = [m for m in messages if any(t.get("address") == self.admin_email for t in m.get("to", []))]
            time.sleep(0.5)
        self.check(f"a notice reached {self.admin_email}", bool(found), "nothing in the inbox after 30 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.smoke", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base-url", required=True, help="the API base, e.g. https://func-pastdue-x.azurewebsites.net/api"
    )
    parser.add_argument(
        "--secret", required=True, help="BILLING_WEBHOOK_SECRET as set (while rotating, 'new,old': the first signs)"
    )
    parser.add_argument("--admin-email", help="with --write: a sink mailbox kept for these tests (two notices)")
    parser.add_argument("--mail-api", help="local runs: the local maildev inbox, e.g. http://localhost:1080")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="also write a test account and send it two notices")
    mode.add_argument("--dry", action="store_true", help="the default: the checks that write nothing")
    args = parser.parse_args(argv)
    if args.write and not args.admin_email:
        parser.error("--write needs --admin-email (a sink mailbox: the test notices go there)")
    return Smoke(args.base_url, args.secret, args.admin_email, args.mail_api, dry=not args.write).run()


if __name__ == "__main__":
    sys.exit(main())
