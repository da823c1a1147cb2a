"""HTTP clients for the tests: the billing system (signed) and portal users (principal header)."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from devhost.local_settings import LOCAL_WEBHOOK_SECRET  # noqa: E402 - the one local secret
from pastdue.http.principal import encode_principal
from pastdue.http.signing import sign

SECRET = LOCAL_WEBHOOK_SECRET
ADMIN_OID = "00000000-0000-0000-0000-00000000a001"
SUPPORT_OID = "00000000-0000-0000-0000-00000000a999"


class Billing:
    def __init__(self, base: str, secret: str = SECRET):
        self.http, self.secret = httpx.Client(base_url=base, timeout=60), secret

    def send(self, method: str, path: str, body: dict, timestamp: int | None = None, secret: str | None = None):
        raw = json.dumps(body).encode()
        header = sign(secret or self.secret, method, path, raw, timestamp or int(time.time()))
        return self.http.request(
            method, path, content=raw, headers={"Webhook-Signature": header, "Content-Type": "application/json"}
        )

    def account(
        self,
        account_id: str,
        mode: str = "card",
        token: str | None = "tok_visa",
        locale: str = "en-US",
        admin_oid: str = ADMIN_OID,
        email: str | None = None,
        **extra,
    ):
        body = {
            "admin": {
                "principalId": admin_oid,
                "email": email or f"admin@{account_id}.example",
                "name": "Ada Admin",
                "locale": locale,
            },
            "paymentMode": mode,
            **extra,
        }
        if token:
            body["paymentMethodToken"] = token
        if mode == "invoice":
            body.setdefault(
                "remittance",
                {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "reference": f"INV-{account_id}"},
            )
        return self.send("PUT", f"/api/accounts/{account_id}", body)

    def subscription(self, account_id: str, subscription_id: str, name: str = "Production", plan: str = "default"):
        return self.send(
            "PUT", f"/api/accounts/{account_id}/subscriptions/{subscription_id}", {"displayName": name, "plan": plan}
        )

    def charge_failed(
        self,
        account_id: str,
        subscription_id: str,
        charge_id: str,
        value: int = 12345,
        code: str = "card_declined",
        event_id: str | None = None,
        currency: str = "EUR",
        created_at: str | None = None,
    ):
        body = {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": "charge.failed",
            "createdAt": created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {
                "accountId": account_id,
                "subscriptionId": subscription_id,
                "chargeId": charge_id,
                "amount": {"value": value, "currency": currency},
                "declineCode": code,
            },
        }
        return self.send("POST", "/api/webhooks/charge-failed", body)

    def payment_received(self, account_id: str, value: int, reference: str = "INV", event_id: str | None = None):
        body = {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": "payment.received",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "data": {"accountId": account_id, "amount": {"value": value, "currency": "EUR"}, "reference": reference},
        }
        return self.send("POST", "/api/webhooks/payment-received", body)


def portal_headers(object_id: str = ADMIN_OID, roles: tuple[str, ...] = ()) -> dict:
    return {"X-MS-CLIENT-PRINCIPAL": encode_principal(object_id, roles)}


class Portal:
    def __init__(self, base: str, object_id: str = ADMIN_OID, roles: tuple[str, ...] = ()):
        self.http = httpx.Client(base_url=base, timeout=60, headers=portal_headers(object_id, roles))

    def account(self, account_id: str):
        return self.http.get(f"/api/accounts/{account_id}")

    def history(self, account_id: str):
        """The whole timeline: every page, followed by its `next` cursor, as one answer."""
        answer = self.history_page(account_id, limit=500)
        if answer.status_code != 200:
            return answer
        body = answer.json()
        while body["next"]:
            page = self.history_page(account_id, limit=500, cursor=body["next"])
            assert page.status_code == 200, page.text
            body = {**page.json(), "entries": body["entries"] + page.json()["entries"]}
        return httpx.Response(200, json={**body, "next": None})

    def history_page(self, account_id: str, **params):
        return self.http.get(f"/api/accounts/{account_id}/history", params=params)

    def pay(self, account_id: str, token: str, key: str | None = None):
        return self.http.put(
            f"/api/accounts/{account_id}/payment-method",
            json={"paymentMethodToken": token},
            headers={"Idempotency-Key": key or f"key-{uuid.uuid4().hex}"},
        )

    def reactivate(self, account_id: str, subscription_id: str):
        return self.http.post(f"/api/accounts/{account_id}/subscriptions/{subscription_id}/reactivate", json={})


SUPPORT_OID = "00000000-0000-0000-0000-00000000beef"


class Support:
    """The support API, as a support agent (role Billing.Support) or, with roles=(), as anyone else."""

    def __init__(self, base: str, object_id: str = SUPPORT_OID, roles: tuple[str, ...] = ("Billing.Support",)):
        self.http = httpx.Client(base_url=base, timeout=60, headers=portal_headers(object_id, roles))

    def accounts(self, **params):
        return self.http.get("/api/support/accounts", params=params)

    def notices(self, account_id: str):
        return self.http.get(f"/api/support/accounts/{account_id}/notices")

    def resend(self, account_id: str, notice_id: str, reason: str | None = None):
        body = {"reason": reason} if reason else {}
        return self.http.post(f"/api/support/accounts/{account_id}/notices/{notice_id}/resend", json=body)

    def pause(self, account_id: str, until: str, reason: str = "customer asked for time"):
        return self.http.post(
            f"/api/support/accounts/{account_id}/dunning/pause", json={"until": until, "reason": reason}
        )

    def resume(self, account_id: str):
        return self.http.post(f"/api/support/accounts/{account_id}/dunning/resume", json={})

    def extend(self, account_id: str, subscription_id: str, days: int, reason: str = "purchase order on its way"):
        return self.http.post(
            f"/api/support/accounts/{account_id}/subscriptions/{subscription_id}/extend-grace",
            json={"days": days, "reason": reason},
        )

    def write_off(self, account_id: str, charge_id: str, reason: str = "goodwill", notify: bool = True):
        return self.http.post(
            f"/api/support/accounts/{account_id}/charges/{charge_id}/write-off",
            json={"reason": reason, "notifyAdmin": notify},
        )
