"""The model <-> JSON-ready data (camelCase keys, RFC 3339 UTC times, Money as a dict).

The model is msgspec Structs (domain/model.py): a stored document is read into it and written from it in
one pass each by msgspec, from the declared types, on the sweep's hot path. Free-form data the model
carries (history details, notice parameters) is made JSON-ready here, with fixed-width times.
No Azure import here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache, lru_cache

import msgspec


@cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@lru_cache(maxsize=1024)  # a decision formats the same few instants (its `now`, the charges' times) many times
def format_time(value: datetime) -> str:
    # Fixed width, so stored times compare correctly as strings in queries (nextActionAt <= @now).
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return parsed.astimezone(UTC)


def dump(value):
    """Any model value as JSON-ready data, in one pass: a model part as its document (a field at its default
    left out), a time in RFC 3339 (UTC, "Z"; fractions of a second only when there are some)."""
    return msgspec.to_builtins(value)


def load(cls, data):
    """A model part from its document: unknown keys are ignored; a wrong type, or a time without a zone
    (model.Time), is refused (msgspec.ValidationError, a ValueError)."""
    return msgspec.convert(data, cls)
