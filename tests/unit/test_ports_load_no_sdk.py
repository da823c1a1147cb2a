"""The use cases and their ports load no cloud SDK: what the sweep, the drain and the portal decide is
testable (and importable at cold start) without azure-cosmos, azure-storage-queue, ACS or stripe. Each
import runs in a fresh interpreter, so what an earlier test loaded does not hide it."""

from __future__ import annotations

import subprocess
import sys

import pytest

SDKS = ("azure", "stripe")
PURE = [
    "pastdue.services.sweep",
    "pastdue.services.notices",
    "pastdue.services.portal",
    "pastdue.services.stripe_events",
    "pastdue.services.delivery",
    "pastdue.services.support",
    "pastdue.services.billing",
    "pastdue.adapters.shard_queue",
    "pastdue.adapters.sweep_runs",
    "pastdue.adapters.quota",
    "pastdue.adapters.gateway",
    "pastdue.adapters.email",
    "pastdue.adapters.acs_sender",  # the ACS SDK loads when a sender is made, not at import
    "pastdue.adapters.memory",
]


def _loaded(module: str) -> list[str]:
    probe = f"import sys, {module}; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("module", PURE)
def test_importing_loads_no_cloud_sdk(module):
    assert _loaded(module) == []


def test_the_probe_sees_an_sdk_when_one_is_loaded():
    assert "azure.cosmos" in _loaded("pastdue.adapters.cosmos.sweep_runs")
