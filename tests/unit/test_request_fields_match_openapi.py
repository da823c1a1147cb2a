"""Each request body's model (pastdue/http/bodies.py, which refuses any field it does not name with a 400
naming it) is, field by field and at every depth, the schema docs/openapi.yaml gives that body: the same
fields, the same required ones, and for each the same type, enum, length, pattern and bounds, with
additionalProperties: false on every object. A field added or changed on one side only fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from msgspec import inspect as shapes

from pastdue.http import bodies

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def _resolved(node):
    """The schema a node stands for: through $ref, and through a one-part allOf (how OpenAPI 3.0 says a
    referenced object may be null)."""
    while isinstance(node, dict) and ("$ref" in node or len(node.get("allOf") or ()) == 1):
        if "$ref" not in node:
            node = node["allOf"][0]
            continue
        found = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def _body(method: str, path: str) -> dict:
    body = _resolved(SPEC["paths"][path][method]["requestBody"])
    return _resolved(next(iter(body["content"].values()))["schema"])


def _strict_bodies() -> dict[tuple[str, str], str]:
    """(method, path) -> the schema's name, for every body of the contract that refuses unknown fields
    (not Stripe's events, which are Stripe's shape): each has its model of the same name in bodies.py."""
    found = {}
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            schema = next(iter(_resolved(operation["requestBody"])["content"].values()))["schema"]
            if _resolved(schema).get("additionalProperties") is False and _resolved(schema).get("properties"):
                found[(method, path)] = schema["$ref"].rsplit("/", 1)[1]
    return found


CASES = sorted(_strict_bodies().items())


def _one(kind: shapes.Type) -> shapes.Type:
    """The type of an optional field without its None."""
    if isinstance(kind, shapes.UnionType):
        (kind,) = (t for t in kind.types if not isinstance(t, shapes.NoneType))
    return kind


def _differences(shape: shapes.StructType, schema: dict, where: str = "") -> list[str]:
    """Every way the model and the schema part: an empty list when they say the same."""
    found = []
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        found.append(f"{where or 'body'}: the schema must be an object with additionalProperties: false")
    properties = {name: _resolved(value) for name, value in (schema.get("properties") or {}).items()}
    fields = {field.encode_name: field for field in shape.fields}
    if set(properties) != set(fields):
        found.append(f"{where or 'body'}: fields {sorted(fields)} in the model, {sorted(properties)} in the schema")
    required = {name for name, field in fields.items() if field.required}
    if required != set(schema.get("required") or ()):
        found.append(
            f"{where or 'body'}: required {sorted(required)} in the model, {schema.get('required')} in the schema"
        )
    for name in set(properties) & set(fields):
        found += _field_differences(_one(fields[name].type), properties[name], f"{where}{name}")
        # An optional field that takes null (read as not given) says so in the contract, and only such a one.
        kind = fields[name].type
        takes_null = isinstance(kind, shapes.UnionType) and any(isinstance(t, shapes.NoneType) for t in kind.types)
        if takes_null != (schema["properties"][name].get("nullable") is True):
            found.append(
                f"{where}{name}: null is {'' if takes_null else 'not '}taken by the model, nullable is "
                f"{schema['properties'][name].get('nullable')!r} in the schema"
            )
    return found


def _field_differences(kind: shapes.Type, prop: dict, where: str) -> list[str]:
    said: dict[str, object]
    if isinstance(kind, shapes.StructType):
        return _differences(kind, prop, f"{where}.")
    if isinstance(kind, shapes.LiteralType):
        said = {"type": "string", "enum": list(kind.values)}
        seen = {"type": prop.get("type"), "enum": prop.get("enum")}
    elif isinstance(kind, shapes.StrType):
        said = {"type": "string", "minLength": kind.min_length, "maxLength": kind.max_length, "pattern": kind.pattern}
        seen = {key: prop.get(key) for key in said}
    elif isinstance(kind, shapes.IntType):
        said = {"type": "integer", "minimum": kind.ge, "maximum": kind.le}
        seen = {key: prop.get(key) for key in said}
    elif isinstance(kind, shapes.BoolType):
        said, seen = {"type": "boolean"}, {"type": prop.get("type")}
    else:  # pragma: no cover - a model type this test does not know yet
        return [f"{where}: the model's type {kind} is not compared here: add it"]
    return [
        f"{where}: {key} is {said[key]!r} in the model, {seen[key]!r} in the schema"
        for key in said
        if said[key] != seen[key]
    ]


@pytest.mark.parametrize("route, name", CASES, ids=[f"{m} {p}" for (m, p), _ in CASES])
def test_a_body_model_is_its_schema_in_the_contract_field_by_field(route, name):
    model = getattr(bodies, name, None)
    assert isinstance(model, type) and issubclass(model, bodies.Body), f"bodies.py has no model {name}"
    shape = shapes.type_info(model)
    assert isinstance(shape, shapes.StructType)
    assert _differences(shape, _body(*route)) == []


def test_a_difference_is_seen_at_any_depth():
    """The comparison itself: a schema one nested length apart from its model is told apart."""
    schema = _body("put", "/accounts/{accountId}")
    changed = {
        **schema,
        "properties": {**schema["properties"], "admin": dict(_resolved(schema["properties"]["admin"]))},
    }
    changed["properties"]["admin"]["properties"] = {
        **changed["properties"]["admin"]["properties"],
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
    }
    shape = shapes.type_info(bodies.AccountPut)
    assert isinstance(shape, shapes.StructType)
    assert _differences(shape, changed) == ["admin.name: maxLength is 256 in the model, 255 in the schema"]


def test_every_body_a_handler_reads_is_a_body_of_the_contract():
    """A model no route of the contract takes is a body the contract does not describe."""
    read = set(re.findall(r"bodies\.([A-Z][A-Za-z]+)", " ".join(p.read_text() for p in ROOT.glob("functions/*/*.py"))))
    assert read, "no handler reads a body model"
    assert read <= {name for _, name in CASES}, sorted(read - {name for _, name in CASES})
