"""docs/openapi.yaml stands on its own: every example validates against its schema."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

DOC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())


def _resolve(node):
    """Inline every $ref and turn OpenAPI 3.0's `nullable` into JSON Schema."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = DOC
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/")]
            return _resolve(copy.deepcopy(target))
        node = {k: _resolve(v) for k, v in node.items() if k not in ("example", "examples")}
        if node.pop("nullable", False):
            node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_resolve(v) for v in node]
    return node


def _examples():
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post"):
                continue
            for status, response in operation.get("responses", {}).items():
                response = _resolve_ref(response)
                for content in response.get("content", {}).values():
                    for name, example in content.get("examples", {}).items():
                        yield (
                            f"{method.upper()} {path} {status} {name}",
                            content["schema"],
                            _resolve_ref(example)["value"],
                        )


def _resolve_ref(node):
    if isinstance(node, dict) and "$ref" in node:
        target = DOC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return target
    return node


EXAMPLES = list(_examples())


def test_every_operation_documents_an_example_of_its_success():
    with_examples = {name.rsplit(" ", 2)[0] for name, _, _ in EXAMPLES}
    operations = {f"{m.upper()} {p}" for p, item in DOC["paths"].items() for m in item if m in ("get", "put", "post")}
    assert operations - with_examples <= {"GET /health", "POST /webhooks/stripe"}


@pytest.mark.parametrize("name, schema, value", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(name, schema, value):
    jsonschema_rs.validate(_resolve(schema), value)


def test_the_document_cites_nothing_outside_the_repository():
    text = (Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text()
    for doc in (Path(__file__).resolve().parents[2] / "docs").glob("*.md"):
        text += doc.read_text()
    assert "API.md" not in text and "shared design" not in text.lower()
