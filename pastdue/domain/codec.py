"""Dataclasses <-> JSON documents (camelCase keys, RFC 3339 UTC times, Money as a dict).

Driven by type hints so the model stays plain; no Azure import here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from functools import cache

from pastdue.domain.money import Money


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


def dump(value):
    if dataclasses.is_dataclass(value):
        return {camel(f.name): dump(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "etag"}
    if isinstance(value, Money):
        return value.to_json()
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


@cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def load(cls, data):
    if data is None:
        return None
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(cls) if a is not type(None)][0]
        return load(inner, data)
    if origin is list:
        (item,) = typing.get_args(cls)
        return [load(item, v) for v in data]
    if origin is dict:
        _, item = typing.get_args(cls)
        return {k: load(item, v) for k, v in data.items()}
    if cls is Money:
        return Money.from_json(data)
    if cls is datetime:
        return parse_time(data)
    if dataclasses.is_dataclass(cls):
        hints = _hints(cls)
        kwargs = {f.name: load(hints[f.name], data[camel(f.name)])
                  for f in dataclasses.fields(cls) if camel(f.name) in data}
        return cls(**kwargs)
    return data
