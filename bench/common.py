"""What the benchmarks share: the machine, a Cosmos stand-in of their own, and counting requests."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def read_ru(size: int) -> float:
    """Request units of a point read of `size` bytes (Cosmos's published estimate: 1 RU for 1 kB, ~10 for 100 kB)."""
    kb = max(1.0, size / 1024)
    return 1 + (kb - 1) * 9 / 99 if kb <= 100 else kb / 10


def write_ru(size: int) -> float:
    return 5 * read_ru(size)


class RequestCounter:
    """Counts Cosmos requests and the items they returned, through the SDK's raw_response_hook."""

    def __init__(self, container: str | None = None):
        # Whole counts, and estimatedRU in fractions of a request unit.
        self.counts: defaultdict[str, float] = defaultdict(int)
        self.container = container  # count only this container's requests (None: all)

    def __call__(self, response) -> None:
        request, answer = response.http_request, response.http_response
        if self.container and f"/colls/{self.container}/" not in request.url:
            return
        is_query = request.headers.get("x-ms-documentdb-isquery") == "True" or (
            request.method == "POST" and "application/query+json" in request.headers.get("Content-Type", "")
        )

        self.counts["requests"] += 1
        answered = int(answer.headers.get("content-length") or 0)
        if is_query:
            self.counts["queryPages"] += 1
            self.counts["itemsRead"] += int(answer.headers.get("x-ms-item-count") or 0)
            self.counts["estimatedRU"] += 2.5 + read_ru(answered) - 1  # a single-partition query page
        elif request.method == "GET" and "/docs/" in request.url:
            self.counts["itemsRead"] += 1 if answer.status_code == 200 else 0
            self.counts["estimatedRU"] += read_ru(answered)
        elif request.method in ("PUT", "POST", "DELETE"):
            self.counts["writes"] += 1
            body = request.body or b""
            self.counts["bytesWritten"] += len(body if isinstance(body, bytes) else str(body).encode())
            self.counts["estimatedRU"] += write_ru(len(body) if body else 1024)

    def reset(self) -> None:
        self.counts.clear()


def start_cosmos():
    """A Cosmos stand-in on a free port (or the one in BENCH_COSMOS_ENDPOINT), with app settings for it."""
    from devhost.standins import LOCAL_COSMOS_KEY, StandIns
    from tests.support.stack import free_port

    standins = None
    endpoint = os.environ.get("BENCH_COSMOS_ENDPOINT")
    if not endpoint:
        standins = StandIns(free_port(), free_port(), free_port(), free_port()).start(Path(tempfile.mkdtemp()))
        endpoint = f"https://localhost:{standins.cosmos_port}"
    os.environ.update(
        {
            "COSMOS_ENDPOINT": endpoint,
            "COSMOS_KEY": LOCAL_COSMOS_KEY,
            "COSMOS_VERIFY_TLS": "false",
            "COSMOS_DATABASE": f"bench_{uuid.uuid4().hex[:8]}",
            "EMAIL_SENDER": "bench@pastdue.test",
            "EMAIL_TRANSPORT": "smtp",
            "BILLING_WEBHOOK_SECRET": "bench-secret-0123456789",
            "PRINCIPAL_MODE": "unverified-local",
        }
    )
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return standins


def counted_deps(counter: RequestCounter, database: str):
    """The app's own adapters on a client that counts every request."""
    from pastdue import bootstrap
    from pastdue.adapters.cosmos import CosmosAccountStore, CosmosCustomerData, ensure_containers, make_client
    from pastdue.adapters.cosmos.ledger import CosmosLedger
    from pastdue.adapters.gateway import SandboxGateway
    from pastdue.services.deps import Deps

    # The stand-in scans every document for a query (it has no index): give it time at 100,000.
    client = make_client(bootstrap.settings(), raw_response_hook=counter, read_timeout=900, connection_timeout=60)
    ensure_containers(client, database)
    db = client.get_database_client(database)
    return Deps(
        store=CosmosAccountStore(db.get_container_client("accounts")),
        customer_data=CosmosCustomerData(db.get_container_client("customerData")),
        gateway=SandboxGateway(CosmosLedger(db.get_container_client("gatewayLedger"))),
        policy=bootstrap.load_policy(bootstrap.settings().policy_file),
        clock=bootstrap.clock(),
    ), db
