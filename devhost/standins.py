"""The local stand-ins, from node_modules: @vercel/cosmosdb-server (Cosmos), maildev (SMTP + REST) and
Azurite (Microsoft's Storage emulator; its queue service carries the sweep's shard messages)."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COSMOS_CLI = ROOT / "devhost/cosmos-standin.js"
MAILDEV_CLI = ROOT / "node_modules/maildev/dist/bin/maildev.js"
AZURITE_QUEUE_CLI = ROOT / "node_modules/azurite/dist/src/queue/main.js"
AZURITE_ACCOUNT = "devstoreaccount1"
# The stand-in accepts any key; this one only has the emulator's shape. Azure uses managed identity.
LOCAL_COSMOS_KEY = "bG9jYWwtc3RhbmQtaW4ta2V5LW5vdC1hLXNlY3JldC1sb2NhbC1zdGFuZC1pbi1rZXk="


class PortTaken(RuntimeError):
    pass


@dataclass
class StandIns:
    cosmos_port: int = 8081
    smtp_port: int = 1025
    maildev_web_port: int = 1080
    queue_port: int = 10001
    processes: list[subprocess.Popen] | None = None
    # Azurite's account key, made for this run (Azurite takes it from AZURITE_ACCOUNTS): no key in the repo.
    queue_key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(64)).decode())

    def start(self, log_dir: Path) -> StandIns:
        for port, what in (
            (self.cosmos_port, "Cosmos stand-in (COSMOS_PORT)"),
            (self.smtp_port, "maildev SMTP (SMTP_PORT)"),
            (self.maildev_web_port, "maildev web (MAILDEV_WEB_PORT)"),
            (self.queue_port, "Azurite queue service (QUEUE_PORT)"),
        ):
            if port_in_use(port):
                raise PortTaken(
                    f"port {port} for the {what} is already taken: stop what uses it or choose "
                    f"another port with that setting"
                )
        for cli in (COSMOS_CLI.parent.parent / "node_modules/@vercel/cosmosdb-server", MAILDEV_CLI, AZURITE_QUEUE_CLI):
            if not cli.exists():
                raise RuntimeError(f"{cli} is missing: run 'npm ci' first")
        log_dir.mkdir(parents=True, exist_ok=True)
        self.processes = [
            _spawn(["node", str(COSMOS_CLI), str(self.cosmos_port)], log_dir / "cosmos.log"),
            _spawn(
                [
                    "node",
                    str(MAILDEV_CLI),
                    "--smtp",
                    str(self.smtp_port),
                    "--web",
                    str(self.maildev_web_port),
                    "--ip",
                    "127.0.0.1",
                    "--web-ip",
                    "127.0.0.1",
                ],
                log_dir / "maildev.log",
            ),
            # --skipApiVersionCheck: the SDK asks for a newer service version than Azurite knows of.
            _spawn(
                [
                    "node",
                    str(AZURITE_QUEUE_CLI),
                    "--queueHost",
                    "127.0.0.1",
                    "--queuePort",
                    str(self.queue_port),
                    "--inMemoryPersistence",
                    "--disableTelemetry",
                    "--silent",
                    "--skipApiVersionCheck",
                ],
                log_dir / "azurite.log",
                {"AZURITE_ACCOUNTS": f"{AZURITE_ACCOUNT}:{self.queue_key}"},
            ),
        ]
        for port in (self.cosmos_port, self.smtp_port, self.maildev_web_port, self.queue_port):
            wait_for_port(port, 30)
        return self

    def stop(self) -> None:
        for process in self.processes or []:
            process.terminate()
        for process in self.processes or []:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()

    def environment(self) -> dict:
        return {
            "COSMOS_ENDPOINT": f"https://localhost:{self.cosmos_port}",
            "COSMOS_KEY": LOCAL_COSMOS_KEY,
            "COSMOS_VERIFY_TLS": "false",
            "EMAIL_TRANSPORT": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp_port),
            "SweepQueue": self.queue_connection(),
        }

    def queue_connection(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={self.queue_key};"
            f"QueueEndpoint=http://127.0.0.1:{self.queue_port}/{AZURITE_ACCOUNT};"
        )


def _spawn(command: list[str], log_file: Path, env: dict | None = None) -> subprocess.Popen:
    handle = open(log_file, "ab")  # noqa: SIM115 - the child keeps it open for its whole life
    return subprocess.Popen(
        command,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        preexec_fn=die_with_parent,
        env={**os.environ, **(env or {})},
    )


def die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGTERM when its parent dies, however it dies
    (a crash or SIGKILL included), so no stand-in is left holding its port."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not port_in_use(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answered on port {port} after {seconds} s (see .run/*.log)")
        time.sleep(0.1)


def create_containers() -> None:
    """Local only: in Azure the Bicep creates the database, the containers and the sweep's queues."""
    import urllib3

    from pastdue import bootstrap
    from pastdue.adapters.cosmos import ensure_containers
    from pastdue.adapters.storage_queue import StorageShardQueue

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    ensure_containers(bootstrap.cosmos_client(), bootstrap.settings().cosmos_database)
    queue = bootstrap.shard_queue()
    if isinstance(queue, StorageShardQueue):  # the only queue bootstrap builds
        queue.create()
