"""The dunning policy this release ships (default.yaml, beside this file): the one calendar production, the
tests, the gallery and the benchmarks read. An operator's policy file (DUNNING_POLICY_FILE) is read over it:
what the file leaves out is the shipped policy's."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from pastdue.domain.policy import Policy

SHIPPED_FILE = Path(__file__).with_name("default.yaml")


@cache
def shipped() -> Policy:
    """The shipped policy (read once per process)."""
    return Policy.from_document(yaml.safe_load(SHIPPED_FILE.read_text(encoding="utf-8")))


def load(path: str | Path) -> Policy:
    """The policy of an operator's file, read over the shipped one."""
    if Path(path).resolve() == SHIPPED_FILE.resolve():
        return shipped()
    with open(path, encoding="utf-8") as handle:
        return Policy.from_document(yaml.safe_load(handle), base=shipped())
