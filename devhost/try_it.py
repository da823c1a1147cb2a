"""python -m devhost.try_it: a short tour against a running `make run` (billing system + portal calls)."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from devhost.local_settings import base_url, mail_url, webhook_secret
from pastdue.http.principal import encode_principal
from pastdue.http.signing import sign

BASE = base_url()
SECRET = webhook_secret()


def billing(client: httpx.Client, method: str, path: str, body: dict) -> dict:
    raw = json.dumps(body).encode()
    headers = {
        "Webhook-Signature": sign(SECRET, method, f"/api{path}", raw, int(time.time())),
        "Content-Type": "application/json",
    }
    answer = client.request(method, f"/api{path}", content=raw, headers=headers)
    print(f"{method} {path} -> {answer.status_code}")
    if answer.status_code == 401:
        raise SystemExit(
            "the local host refused the signature: its BILLING_WEBHOOK_SECRET differs from the one "
            "read here (environment, then local.settings.json); use the same value in both"
        )
    return answer.json()


def main() -> None:
    try:
        httpx.get(f"{BASE}/api/health", timeout=5)
    except httpx.HTTPError:
        raise SystemExit(f"nothing answers at {BASE}: start the local host with `make run`") from None
    account, sub, admin = f"acct-{uuid.uuid4().hex[:6]}", "sub-prod", "00000000-0000-0000-0000-0000000000aa"
    with httpx.Client(base_url=BASE, timeout=30) as client:
        billing(
            client,
            "PUT",
            f"/accounts/{account}",
            {
                "admin": {"principalId": admin, "email": f"admin@{account}.example", "name": "Ada", "locale": "fr-FR"},
                "paymentMode": "card",
                "paymentMethodToken": "tok_chargeCustomerFail",
            },
        )
        billing(client, "PUT", f"/accounts/{account}/subscriptions/{sub}", {"displayName": "Production"})
        billing(
            client,
            "POST",
            "/webhooks/charge-failed",
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "charge.failed",
                "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "data": {
                    "accountId": account,
                    "subscriptionId": sub,
                    "chargeId": "ch_1",
                    "amount": {"value": 123456, "currency": "EUR"},
                    "declineCode": "card_declined",
                },
            },
        )
        portal = {"X-MS-CLIENT-PRINCIPAL": encode_principal(admin)}
        view = client.get(f"/api/accounts/{account}", headers=portal).json()
        print(json.dumps(view["alerts"], ensure_ascii=False, indent=2))
        paid = client.put(
            f"/api/accounts/{account}/payment-method",
            json={"paymentMethodToken": "tok_visa"},
            headers={**portal, "Idempotency-Key": f"try-{uuid.uuid4().hex}"},
        )
        print("pay now ->", paid.status_code, json.dumps(paid.json()["settled"]))
    print(f"mail: {mail_url()}")


if __name__ == "__main__":
    main()
