"""The house's arrows point one way, read from the source: the handlers (functions/) and pastdue/http speak HTTP,
the use cases (pastdue/services) decide with the pure core (pastdue/domain), the adapters talk to the
services outside. docs/design.md draws the same picture; this holds the code to it."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)

# What each layer of pastdue/ may not import (a prefix of a module's dotted name).
FORBIDDEN = {
    "domain": (
        "pastdue.services",
        "pastdue.adapters",
        "pastdue.http",
        "pastdue.notices",
        "pastdue.settings",
        "azure",
        "stripe",
        "yaml",
    ),
    "services": ("pastdue.http", "azure", "stripe"),
    "adapters": ("pastdue.services", "pastdue.http"),
    "notices": ("pastdue.services", "pastdue.adapters", "pastdue.http"),
}
# The domain is plain Python and msgspec (its Struct is the model's base: docs/design.md says why).
DOMAIN_MAY_USE = frozenset({"msgspec", "pastdue"})
# The answers that carry a status are built by pastdue/http only (its one table in problems.py).
STATUS_BUILDERS = frozenset({"HttpResponse", "json_response", "problem"})


def _imports(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _wrong_imports(layer: str, source: str) -> list[str]:
    found = [m for m in _imports(source) if any(m == p or m.startswith(p + ".") for p in FORBIDDEN.get(layer, ()))]
    if layer == "domain":
        found += [
            m
            for m in _imports(source)
            if m.split(".")[0] not in STDLIB | DOMAIN_MAY_USE
            or (m.startswith("pastdue") and not m.startswith("pastdue.domain"))
        ]
    return sorted(set(found))


def _statuses_set(source: str) -> list[int]:
    """Lines that build an HTTP answer with a status of their own: HttpResponse(...) at all, or
    json_response/problem given more than the body."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "HttpResponse" or (name in STATUS_BUILDERS and (len(node.args) > 1 or node.keywords)):
            lines.append(node.lineno)
    return lines


def _modules(*globs: str) -> list[Path]:
    return sorted(path for pattern in globs for path in ROOT.glob(pattern))


LAYERED = [p for p in _modules("pastdue/*/**/*.py") if p.relative_to(ROOT).parts[1] in FORBIDDEN]


@pytest.mark.parametrize("path", LAYERED, ids=[str(p.relative_to(ROOT)) for p in LAYERED])
def test_a_module_imports_nothing_from_the_layers_above_it(path):
    layer = path.relative_to(ROOT).parts[1]
    assert _wrong_imports(layer, path.read_text(encoding="utf-8")) == []


OUTSIDE_HTTP = [p for p in _modules("pastdue/**/*.py", "functions/**/*.py", "function_app.py") if "http" not in p.parts]


@pytest.mark.parametrize("path", OUTSIDE_HTTP, ids=[str(p.relative_to(ROOT)) for p in OUTSIDE_HTTP])
def test_only_pastdue_http_chooses_an_answers_status(path):
    assert _statuses_set(path.read_text(encoding="utf-8")) == []


def test_the_checks_see_what_they_look_for():
    """Each check, on a module that breaks its rule, finds it (the tests above cannot pass by seeing nothing)."""
    assert _wrong_imports("domain", "from pastdue.services.sweep import run\nimport requests\n") == [
        "pastdue.services.sweep",
        "requests",
    ]
    assert _wrong_imports("services", "import azure.cosmos\nfrom pastdue.http.problems import saved\n") == [
        "azure.cosmos",
        "pastdue.http.problems",
    ]
    assert _wrong_imports("adapters", "from pastdue.services import deps\n") == ["pastdue.services"]
    assert (
        _wrong_imports("domain", "import msgspec\nfrom datetime import UTC\nfrom pastdue.domain import model\n") == []
    )
    assert _statuses_set("return json_response(view, 201 if created else 200)\n") == [1]
    assert _statuses_set("x = 1\nreturn func.HttpResponse('', status_code=204)\n") == [2]
    assert _statuses_set("return saved(view, created)\nreturn json_response(body)\n") == []
    assert len(LAYERED) > 50 and len(OUTSIDE_HTTP) > 80
