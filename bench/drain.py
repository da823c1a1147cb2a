"""Notice drain throughput with an unlimited quota, to a real SMTP server (aiosmtpd) on loopback.

Usage: python -m bench.drain [notices]
"""

from __future__ import annotations

import sys
import time
import uuid

from bench.common import machine, start_cosmos


def main(total: int) -> None:
    standins = start_cosmos()
    try:
        from pastdue import bootstrap
        from pastdue.adapters.cosmos import ensure_containers
        from pastdue.adapters.cosmos.quota import CosmosQuota
        from pastdue.adapters.smtp_sender import SmtpSender
        from pastdue.services.notices import drain_all
        from tests.integration.test_notice_drain import _seed
        from tests.support.smtp_sink import Sink

        ensure_containers(bootstrap.cosmos_client(), bootstrap.settings().cosmos_database)
        per_account = 10
        _seed(bootstrap.clock().now(), accounts=total // per_account, per_account=per_account)
        quota = CosmosQuota(bootstrap.container("control"), 10**7, 10**8, f"q-{uuid.uuid4()}")
        print(f"machine: {machine()}")
        print(f"inputs: {total} queued notices in {total // per_account} accounts, unlimited quota, SMTP to aiosmtpd")
        with Sink() as sink:
            sender = SmtpSender("bench@pastdue.test", "127.0.0.1", sink.port)
            started = time.perf_counter()
            sent = 0
            while sent < total:
                got = drain_all(bootstrap.deps(), sender, quota, budget_seconds=3600)["sent"]
                if not got:
                    break
                sent += got
            elapsed = time.perf_counter() - started
        print(
            f"sent {sent} in {elapsed:.1f} s: {sent / elapsed:.0f} notices/s "
            f"({elapsed / sent * 1000:.1f} ms each: render + SMTP + share of two Cosmos writes per account)"
        )
    finally:
        if standins:
            standins.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
