"""Starts the real stand-ins and the local host for a test session, on ports of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx

from devhost.standins import ROOT, StandIns, port_in_use, wait_for_port
from tests.support.clients import SECRET

_HANDED_OUT: set[int] = set()
PORTS_PER_WORKER = 1000


def free_port() -> int:
    """A port no one listens on, from a block of this pytest-xdist worker's own (20000 + 1000 per worker,
    below Linux's ephemeral range): two workers never pick the same one, and one process never picks one
    twice (asking the OS for port 0 twice may answer the same port, once the first is released)."""
    import random
    import socket

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = 20000 + (int(worker) % 12 if worker.isdigit() else 0) * PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port = base + random.randrange(PORTS_PER_WORKER)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {base}-{base + PORTS_PER_WORKER - 1}")


def new_database(prefix: str) -> str:
    """A database of its own on the worker's Cosmos stand-in, with the app's containers; its name."""
    from pastdue import bootstrap
    from pastdue.adapters.cosmos import ensure_containers

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    ensure_containers(bootstrap.cosmos_client(), name)
    return name


def test_environment(standins: StandIns) -> dict:
    return {
        **standins.environment(),
        "COSMOS_DATABASE": f"test_{uuid.uuid4().hex[:8]}",
        "EMAIL_SENDER": "billing@pastdue.test",
        "BILLING_WEBHOOK_SECRET": f"old-secret-0123456789,{SECRET}",
        "PRINCIPAL_MODE": "unverified-local",
        "SWEEP_SCHEDULE": "0 0 2 * * *",
        "SWEEP_SHARDS": "4",
        "EMAIL_QUOTA_PER_MINUTE": "100000",
        "EMAIL_QUOTA_PER_HOUR": "1000000",
        "CORS_ALLOWED_ORIGINS": "http://localhost:5173",
    }


def start_standins(log_dir) -> StandIns:
    cosmos, smtp, maildev_web, queue = (free_port() for _ in range(4))
    return StandIns(cosmos, smtp, maildev_web, queue).start(log_dir)


def start_host(env: dict, log_file) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # A sweep queue of its own unless told: hosts with other settings (Stripe, another database) must not
    # take each other's shards. Two hosts given one queue compete for it, as instances do.
    env = {"SWEEP_QUEUE": f"sweep-{port}", **env}
    handle = open(log_file, "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--no-standins", "--no-timers", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, 60)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the local host did not come up")


__all__ = ["port_in_use", "start_host", "start_standins", "test_environment"]
