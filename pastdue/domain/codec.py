"""Dataclasses <-> JSON documents (camelCase keys, RFC 3339 UTC times, Money as a dict).

Driven by type hints so the model stays plain; the per-type work is planned once and cached,
because every due account is loaded and dumped on the sweep's hot path. No Azure import here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from pastdue.domain.money import Money

_PLAIN = (str, int, float, bool, type(None))
NOT_STORED = frozenset({"etag", "stored"})  # the store's own notes on a loaded aggregate


@cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def format_time(value: datetime) -> str:
    # Fixed width, so stored times compare correctly as strings in queries (nextActionAt <= @now).
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return parsed.astimezone(UTC)


@cache
def _fields(cls) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, camel(f.name)) for f in dataclasses.fields(cls) if f.name not in NOT_STORED)


def dump(value):
    """Any model value as JSON-ready data."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [dump(v) for v in value]
    if kind is dict:
        return {k: dump(v) for k, v in value.items()}
    return _dumper(kind)(value)


def _same(value):
    return value


@cache
def _dumper(hint) -> Callable:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = _dumper(next(a for a in typing.get_args(hint) if a is not type(None)))
        return _same if inner is _same else (lambda value: None if value is None else inner(value))
    if origin is list:
        item = _dumper(typing.get_args(hint)[0])
        return list if item is _same else (lambda value: [item(v) for v in value])
    if origin is dict:
        item = _dumper(typing.get_args(hint)[1])
        return dict if item is _same else (lambda value: {k: item(v) for k, v in value.items()})
    if hint is Money:
        return lambda value: {"value": value.value, "currency": value.currency}
    if hint is datetime:
        return format_time
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        plan = [(name, key, _dumper(hints[name])) for name, key in _fields(hint)]
        # A field that is None is left out (loading gives it its default, None): smaller documents.
        return lambda value: {key: v for name, key, convert in plan if (v := convert(getattr(value, name))) is not None}
    # str, int, bool, float, and free-form dict fields (history details, notice parameters, idempotency
    # records), which the model fills with JSON-ready data only (see ledger.record and queue_notice).
    return _same


def load(cls, data):
    return _loader(cls)(data)


@cache
def _loader(hint) -> Callable:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = _loader(next(a for a in typing.get_args(hint) if a is not type(None)))
        return lambda data: None if data is None else inner(data)
    if origin is list:
        item = _loader(typing.get_args(hint)[0])
        return lambda data: [item(v) for v in data]
    if origin is dict:
        item = _loader(typing.get_args(hint)[1])
        return lambda data: {k: item(v) for k, v in data.items()}
    if hint is Money:
        return Money.from_json
    if hint is datetime:
        return parse_time
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        plan = [(name, key, _loader(hints[name])) for name, key in _fields(hint)]

        def build(data):
            return hint(**{name: convert(data[key]) for name, key, convert in plan if key in data})

        return build
    return lambda data: data
