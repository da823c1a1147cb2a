"""The Stripe stand-in's answers checked against Stripe's published OpenAPI schemas.

The schemas are the subset scripts/stripe_openapi_subset.py extracts from github.com/stripe/openapi
(tests/fixtures/stripe_openapi_subset.json): the objects pastdue exchanges with Stripe, their list and
search wrappers, and the error body (the subset's `x-overlay` names what is not plainly extracted: fields
brought to the newest fixtures, and resources newer than the spec written by hand from Stripe's API
reference). Each answer is checked by what it is: an error body (status >= 400)
against `error`; a search or list against its resource's wrapper; an object against the schema of its
`object`; an event against `event`, and the object it carries against that object's schema. An object the
subset has no schema for (one the app does not use) is counted as unchecked, not as a violation.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

SUBSET = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stripe_openapi_subset.json"
# The path segment of a resource (/v1/payment_intents/search) and the object it holds.
RESOURCES = {
    "payment_intents": "payment_intent",
    "setup_intents": "setup_intent",
    "payment_methods": "payment_method",
    "customers": "customer",
    "invoices": "invoice",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "events": "event",
    "subscriptions": "subscription",
    "credit_notes": "credit_note",
    "invoice_payments": "invoice_payment",
}


class Contract:
    """Validates answers and keeps what did not validate (`violations`) and what had no schema. Every
    contract in use is in `Contract.live` (the tests' fixture fails a test whose stand-in gave one)."""

    live: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, subset: Path = SUBSET):
        import jsonschema_rs

        document = json.loads(subset.read_text())
        self._jsonschema_rs = jsonschema_rs
        self._document = {"$schema": document["$schema"], "$defs": document["$defs"]}
        self.source = document["x-source"]
        self._validators: dict = {}
        self._lock = threading.Lock()
        self.violations: list[dict] = []
        self.checked: Counter = Counter()
        self.unchecked: Counter = Counter()
        Contract.live.add(self)

    def schemas(self) -> set[str]:
        return set(self._document["$defs"])

    def answer(self, method: str, path: str, status: int, body: dict) -> None:
        """An API answer: what it is decides the schema it must satisfy."""
        where = f"{method} {path} -> {status}"
        if status >= 400:
            self.check("error", body, where)
            return
        kind = body.get("object")
        segments = [part for part in path.split("/") if part]
        resource = next((RESOURCES[s] for s in reversed(segments) if s in RESOURCES), None)
        if kind in ("search_result", "list") and resource:
            self.check(f"{resource}_{'search_result' if kind == 'search_result' else 'list'}", body, where)
        else:
            self.object(body, where)

    def event(self, event: dict) -> None:
        """A webhook event, and the object it carries (its schema says only `object`)."""
        where = f"event {event.get('type')}"
        self.check("event", event, where)
        self.object(event.get("data", {}).get("object") or {}, f"{where} data.object")

    def object(self, body: dict, where: str) -> None:
        name = body.get("object")
        if isinstance(name, str) and name in self._document["$defs"]:
            self.check(name, body, where)
        else:
            with self._lock:
                self.unchecked[str(name)] += 1

    def check(self, name: str, body: dict, where: str) -> list[str]:
        """The violations of `body` against schema `name` (also recorded)."""
        errors = [
            f"{'/'.join(str(p) for p in error.instance_path) or '(top)'}: {error.message}"
            for error in self._validator(name).iter_errors(body)
        ]
        with self._lock:
            self.checked[name] += 1
            if errors:
                self.violations.append({"where": where, "schema": name, "errors": errors[:20], "id": body.get("id")})
        return errors

    def _validator(self, name: str):
        with self._lock:
            if name not in self._validators:
                schema = {**self._document, "$ref": f"#/$defs/{name}"}
                self._validators[name] = self._jsonschema_rs.validator_for(schema)
            return self._validators[name]

    def report_of(self, violations: list[dict]) -> str:
        return "\n".join(
            f"{v['where']} ({v['schema']} {v['id'] or ''}):\n    " + "\n    ".join(v["errors"]) for v in violations
        )


@contextmanager
def violations_during():
    """The violations every contract in use records while the block runs (a list, filled at its end)."""
    seen = {id(contract): len(contract.violations) for contract in Contract.live}
    found: list[tuple[Contract, list[dict]]] = []
    yield found
    for contract in list(Contract.live):
        new = contract.violations[seen.get(id(contract), 0) :]
        if new:
            found.append((contract, new))
