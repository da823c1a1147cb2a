"""Extract, from Stripe's published OpenAPI description (github.com/stripe/openapi), the JSON Schemas of the
objects pastdue exchanges with Stripe, for the Stripe stand-in's contract check (devhost/stripe_contract.py).

What it keeps:
- the resources the app uses (payment_intent, setup_intent, payment_method, customer, invoice, charge,
  refund, dispute, event, and Stripe Billing's subscription, credit_note and invoice_payment) and the error
  body (`error`, its `api_errors`), with every schema they reference;
- the list and search-result wrappers of those resources, as the spec's paths answer them (named
  `<resource>_list` and `<resource>_search_result`);
- expandable fields (`x-expansionResources`) as Stripe sends them unexpanded: an id string; expanded, as
  the resource when it is one of the kept ones, else any object with an `id`.

What it changes, so that a standard JSON Schema validator (draft 2020-12) can check answers:
- OpenAPI 3.0's `nullable: true` becomes a `null` type (or a `null` branch);
- descriptions, titles, formats, examples and Stripe's `x-` annotations are dropped (size);
- `#/components/schemas/x` references become `#/$defs/x`.

The spec a repository snapshot holds may be older than the API version the app pins. With `--fixtures`
(the same repository's `openapi/fixtures3.json`, example objects in the newest version), each object schema
the fixtures reach is brought to that version's field list: a required field no fixture carries any more
is no longer required, and a field the fixtures carry that the older schema lacks is required (its type
unchecked). Both lists are written to the output (`x-overlay`), so what was adjusted is visible.

A resource newer than the spec read (the Invoice Payment, of API version 2025-03-31, is not in a 2023
spec) comes from `HAND_WRITTEN` below: its schema as Stripe's API reference documents it, written here by
hand in the spec's own form, with its list wrapper. It is used only when the spec lacks the resource, and
each one used is named in `x-overlay.hand_written`, so it is never mistaken for an extracted schema.

    python scripts/stripe_openapi_subset.py --repo-dir /path/to/stripe-openapi.git \
        --spec-commit <sha> --spec-path openapi/spec3.yaml \
        --fixtures-commit <sha> --fixtures-path openapi/fixtures3.json \
        --out tests/fixtures/stripe_openapi_subset.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

RESOURCES = (
    "payment_intent",
    "setup_intent",
    "payment_method",
    "customer",
    "invoice",
    "charge",
    "refund",
    "dispute",
    "event",
    "subscription",
    "credit_note",
    "invoice_payment",
)
ROOTS = (*RESOURCES, "error")
# (path, name) of the list and search answers kept, as the spec's GET operations answer them.
WRAPPERS = (
    ("/v1/payment_intents/search", "payment_intent_search_result"),
    ("/v1/customers/search", "customer_search_result"),
    ("/v1/invoices/search", "invoice_search_result"),
    ("/v1/charges/search", "charge_search_result"),
    ("/v1/payment_intents", "payment_intent_list"),
    ("/v1/setup_intents", "setup_intent_list"),
    ("/v1/payment_methods", "payment_method_list"),
    ("/v1/customers", "customer_list"),
    ("/v1/invoices", "invoice_list"),
    ("/v1/charges", "charge_list"),
    ("/v1/refunds", "refund_list"),
    ("/v1/disputes", "dispute_list"),
    ("/v1/events", "event_list"),
    ("/v1/subscriptions", "subscription_list"),
    ("/v1/credit_notes", "credit_note_list"),
    ("/v1/invoice_payments", "invoice_payment_list"),
)
KEPT_KEYS = {
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "anyOf",
    "oneOf",
    "allOf",
    "additionalProperties",
    "$ref",
    "maxLength",
    "nullable",
}
PREFIX = "#/components/schemas/"


def _id_or(resource: str, nullable: bool = False) -> dict:
    """An expandable field in the spec's form: the id string, or the resource when expanded."""
    field = {
        "anyOf": [{"type": "string", "maxLength": 5000}, {"$ref": PREFIX + resource}],
        "x-expansionResources": {"oneOf": [{"$ref": PREFIX + resource}]},
    }
    return {**field, "nullable": True} if nullable else field


# HAND-WRITTEN, not extracted: resources the spec read may predate, as Stripe's API reference documents them
# (https://docs.stripe.com/api/invoice-payment/object), in the spec's own form. Used only when the spec has
# no schema of that name; the output names each one used (`x-overlay.hand_written`).
HAND_WRITTEN = {
    "invoice_payment": {
        "type": "object",
        "properties": {
            "amount_paid": {"type": "integer", "nullable": True},
            "amount_requested": {"type": "integer"},
            "created": {"type": "integer"},
            "currency": {"type": "string", "maxLength": 5000},
            "id": {"type": "string", "maxLength": 5000},
            "invoice": _id_or("invoice"),
            "is_default": {"type": "boolean"},
            "livemode": {"type": "boolean"},
            "object": {"type": "string", "enum": ["invoice_payment"]},
            "payment": {"$ref": PREFIX + "invoices_payments_invoice_payment_associated_payment"},
            "status": {"type": "string", "maxLength": 5000},  # open, paid or canceled
            "status_transitions": {"$ref": PREFIX + "invoices_payments_invoice_payment_status_transitions"},
        },
        "required": [
            "amount_paid",
            "amount_requested",
            "created",
            "currency",
            "id",
            "invoice",
            "is_default",
            "livemode",
            "object",
            "payment",
            "status",
            "status_transitions",
        ],
    },
    "invoices_payments_invoice_payment_associated_payment": {
        "type": "object",
        "properties": {
            "charge": _id_or("charge", nullable=True),
            "payment_intent": _id_or("payment_intent", nullable=True),
            "payment_record": _id_or("payment_record", nullable=True),
            "type": {"type": "string", "enum": ["charge", "payment_intent", "payment_record"]},
        },
        "required": ["type"],
    },
    "invoices_payments_invoice_payment_status_transitions": {
        "type": "object",
        "properties": {
            "canceled_at": {"type": "integer", "nullable": True},
            "paid_at": {"type": "integer", "nullable": True},
        },
        "required": ["canceled_at", "paid_at"],
    },
}
HAND_WRITTEN_SOURCE = "https://docs.stripe.com/api/invoice-payment/object"


def list_of(resource: str) -> dict:
    """A list answer in the spec's form (for a hand-written resource, whose path the spec lacks)."""
    return {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": {"$ref": PREFIX + resource}},
            "has_more": {"type": "boolean"},
            "object": {"type": "string", "enum": ["list"]},
            "url": {"type": "string", "maxLength": 5000},
        },
        "required": ["data", "has_more", "object", "url"],
    }


ANY_EXPANDED = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def git_show(repo_dir: str, commit: str, path: str) -> bytes:
    command = ["git", "-C", repo_dir, "show", f"{commit}:{path}"]  # a local repository the operator names
    return subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603, S607


def load(raw: bytes, path: str) -> dict:
    if path.endswith((".yaml", ".yml")):
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader (the C one when built)
    return json.loads(raw)


class Extractor:
    def __init__(self, spec: dict):
        extracted = spec["components"]["schemas"]
        # The hand-written schemas the spec lacks (and the list answers of those that are resources).
        self.hand_written = sorted(name for name in HAND_WRITTEN if name not in extracted)
        self.schemas = {**{name: HAND_WRITTEN[name] for name in self.hand_written}, **extracted}
        self.paths = spec["paths"]
        self.defs: dict[str, dict] = {}
        self.pending: list[str] = []

    def run(self) -> dict[str, dict]:
        for name in ROOTS:
            self._want(name)
        for path, name in WRAPPERS:
            operation = self.paths.get(path, {}).get("get")
            resource = name.removesuffix("_list")
            if operation is not None:
                schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            elif resource in self.hand_written:
                schema = list_of(resource)
                self.hand_written.append(name)
            else:
                continue
            self.defs[name] = self._convert(schema)
        while self.pending:
            name = self.pending.pop()
            self.defs[name] = self._convert(self.schemas[name])
        return dict(sorted(self.defs.items()))

    def _want(self, name: str) -> str:
        if name not in self.defs and name not in self.pending:
            self.defs[name] = {}  # reserved: converted when popped
            self.pending.append(name)
        return f"#/$defs/{name}"

    def _convert(self, schema: dict) -> dict:
        if "x-expansionResources" in schema:
            return self._expandable(schema)
        out: dict = {}
        for key, value in schema.items():
            if key not in KEPT_KEYS:
                continue
            if key == "$ref":
                out["$ref"] = self._want(value.removeprefix(PREFIX))
            elif key == "properties":
                out["properties"] = {k: self._convert(v) for k, v in sorted(value.items())}
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [self._convert(v) for v in value]
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self._convert(value)
            elif key != "nullable":
                out[key] = value
        return nullable(out) if schema.get("nullable") else out

    def _expandable(self, schema: dict) -> dict:
        """An expandable field: the id string, or the object when expanded (one of ours, else any)."""
        branches: list[dict] = []
        for branch in schema.get("anyOf", []):
            ref = branch.get("$ref", "").removeprefix(PREFIX)
            if not ref:
                branches.append(self._convert(branch))
            elif ref in ROOTS:
                branches.append({"$ref": self._want(ref)})
            elif ANY_EXPANDED not in branches:
                branches.append(ANY_EXPANDED)
        if not branches:  # a single reference with no id form
            ref = schema.get("$ref", "").removeprefix(PREFIX)
            branches.append({"$ref": self._want(ref)} if ref in ROOTS else ANY_EXPANDED)
        out = branches[0] if len(branches) == 1 else {"anyOf": branches}
        return nullable(out) if schema.get("nullable") else out


def nullable(schema: dict) -> dict:
    """OpenAPI 3.0's `nullable: true` in JSON Schema terms."""
    if "type" in schema and set(schema) <= {"type", "maxLength", "enum", "items", "properties", "required"}:
        out = {**schema, "type": [schema["type"], "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    if "anyOf" in schema and len(schema) == 1:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def overlay(defs: dict[str, dict], fixtures: dict) -> dict:
    """Bring the object schemas the fixtures reach to the fixtures' field lists (see the module's doc). A
    schema is reached through a reference, an inline object, or the items of an array (lists' `data`)."""
    seen: dict[int, tuple[str, dict, set[str]]] = {}

    def resolve(schema: dict) -> tuple[str, dict] | None:
        """The object schema a field holds when it is one (by reference, nullable reference, or inline)."""
        refs = [b for b in schema.get("anyOf", []) if "$ref" in b]
        others = [b for b in schema.get("anyOf", []) if "$ref" not in b and b.get("type") != "null"]
        if len(refs) == 1 and not others:
            schema = refs[0]
        if "$ref" in schema:
            name = schema["$ref"].removeprefix("#/$defs/")
            return (name, defs[name]) if name in defs else None
        return ("(inline)", schema) if "properties" in schema else None

    def walk(where: str, schema: dict, value: dict) -> None:
        _, _, keys = seen.setdefault(id(schema), (where, schema, set()))
        keys.update(value)
        for key, item in value.items():
            field = schema["properties"].get(key)
            if field is None:
                continue
            if isinstance(item, list) and isinstance(field.get("items"), dict):
                field, items = field["items"], [i for i in item if isinstance(i, dict)]
            else:
                items = [item] if isinstance(item, dict) else []
            found = resolve(field) if items else None
            if found is None:
                continue
            name, child = found
            for each in items:
                walk(f"{where}.{key}" if name == "(inline)" else name, child, each)

    for name in RESOURCES:
        if name in fixtures:
            walk(name, defs[name], fixtures[name])
    report = {}
    for where, schema, keys in sorted(seen.values(), key=lambda entry: entry[0]):
        required = schema.get("required", [])
        dropped = sorted(set(required) - keys)
        added = sorted(keys - set(schema["properties"]))
        if dropped or added:
            schema["required"] = sorted((set(required) - set(dropped)) | set(added))
            for key in added:
                schema["properties"][key] = {}
            report[where] = {"no_longer_required": dropped, "new_fields_required": added}
    return report


def dump(document: dict) -> str:
    """JSON with one schema a line: small, and a new spec's diff reads schema by schema."""

    def compact(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    head = [f"{json.dumps(k)}:{compact(v)}" for k, v in document.items() if k != "$defs"]
    defs = [f" {json.dumps(k)}:{compact(v)}" for k, v in document["$defs"].items()]
    return "{" + ",\n".join(head) + ',\n"$defs":{\n' + ",\n".join(defs) + "\n}}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo-dir", required=True, help="a git checkout or mirror of stripe/openapi")
    parser.add_argument("--spec-commit", required=True)
    parser.add_argument("--spec-path", default="openapi/spec3.json")
    parser.add_argument("--fixtures-commit")
    parser.add_argument("--fixtures-path", default="openapi/fixtures3.json")
    parser.add_argument("--out", default="tests/fixtures/stripe_openapi_subset.json")
    args = parser.parse_args()

    spec = load(git_show(args.repo_dir, args.spec_commit, args.spec_path), args.spec_path)
    extractor = Extractor(spec)
    defs = extractor.run()
    source = {
        "repository": "github.com/stripe/openapi",
        "path": args.spec_path,
        "commit": args.spec_commit,
        "version": spec["info"]["version"],
    }
    document: dict = {"$schema": "https://json-schema.org/draft/2020-12/schema", "x-source": source}
    hand_written = sorted(extractor.hand_written)
    if args.fixtures_commit or hand_written:
        document["x-overlay"] = {}
    if hand_written:
        document["x-overlay"]["hand_written"] = {
            "schemas": hand_written,
            "why": f"not in {args.spec_path} at {args.spec_commit}",
            "from": HAND_WRITTEN_SOURCE,
        }
    if args.fixtures_commit:
        raw = git_show(args.repo_dir, args.fixtures_commit, args.fixtures_path)
        document["x-overlay"]["fixtures"] = {"path": args.fixtures_path, "commit": args.fixtures_commit}
        document["x-overlay"]["changes"] = overlay(defs, json.loads(raw)["resources"])
    document["$defs"] = defs
    Path(args.out).write_text(dump(document))
    print(f"{len(defs)} schemas, {Path(args.out).stat().st_size} bytes -> {args.out}")


if __name__ == "__main__":
    main()
