"""`make run`'s host as a process: its stand-ins listen on loopback only and stop with it, however
it is stopped (SIGTERM, SIGINT, or killed outright), so a second run finds its ports free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from devhost.standins import ROOT, port_in_use
from tests.conftest import RUN_DIR
from tests.support.stack import free_port


def _listeners(port: int) -> set[str]:
    """Local addresses listening on the port, from /proc/net/tcp (hex, little-endian IPv4)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":
                    found.add(address)
    return found


def _start(tmp_env: dict) -> subprocess.Popen:
    log = open(RUN_DIR / "local-run.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "devhost"], cwd=ROOT, env=tmp_env, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.fixture()
def ports():
    # Every port the host and its stand-ins take, Azurite's queue service too (its default, 10001, may be
    # held by anything else on the machine).
    names = ("FUNCTIONS_PORT", "COSMOS_PORT", "SMTP_PORT", "MAILDEV_WEB_PORT", "QUEUE_PORT")
    return {name: free_port() for name in names}


def _wait_up(process, ports) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "the local host exited early (see .run/tests/local-run.log)"
        try:
            if httpx.get(f"http://127.0.0.1:{ports['FUNCTIONS_PORT']}/api/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the local host did not come up")


def _all_free(ports, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(port_in_use(p) for p in ports.values()):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_the_stand_ins_stop_with_the_host_and_listen_on_loopback_only(ports, stop, tmp_path):
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSMOS_", "SMTP_", "EMAIL_"))}
    env.update({name: str(port) for name, port in ports.items()})
    process = _start(env)
    try:
        _wait_up(process, ports)
        for name in ("COSMOS_PORT", "SMTP_PORT", "MAILDEV_WEB_PORT", "QUEUE_PORT", "FUNCTIONS_PORT"):
            assert _listeners(ports[name]) <= {"0100007F", "00000000000000000000000001000000"}, name
        process.send_signal(getattr(signal, stop))
        process.wait(30)
        assert _all_free(ports), f"a port is still taken after {stop}"
    finally:
        if process.poll() is None:
            process.kill()
