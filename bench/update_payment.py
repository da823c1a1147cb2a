"""update_payment through the local host: latency for accounts with 1 to 40 subscriptions past due.

Usage: python -m bench.update_payment [requests per size]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import machine


def main(per_size: int) -> None:
    from tests.support.clients import Billing, Portal
    from tests.support.stack import start_host, start_standins, test_environment

    standins = start_standins(Path(tempfile.mkdtemp()))
    env = test_environment(standins)
    import os

    os.environ.update(env)
    from devhost.standins import create_containers

    create_containers()
    host, base = start_host(env, Path(tempfile.mkdtemp()) / "host.log")
    try:
        billing, portal = Billing(base), Portal(base)
        print(f"machine: {machine()}")
        print(f"inputs: {per_size} accounts per size, each paying every outstanding charge with tok_visa")
        rows = []
        for subs in (1, 5, 20, 40):
            samples = []
            for _ in range(per_size):
                account_id = f"bench-{uuid.uuid4().hex[:10]}"
                billing.account(account_id, token="tok_chargeCustomerFail")
                for n in range(subs):
                    billing.subscription(account_id, f"sub-{n}")
                    billing.charge_failed(account_id, f"sub-{n}", f"{account_id}-ch{n}", 1000 + n)
                started = time.perf_counter()
                answer = portal.pay(account_id, "tok_visa")
                samples.append(time.perf_counter() - started)
                assert answer.status_code == 200 and len(answer.json()["settled"]) == subs
            samples.sort()
            p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
            rows.append((subs, statistics.median(samples), p99))
        base_p50 = rows[0][1]
        print(f"{'subs':>5} {'p50 ms':>8} {'p99 ms':>8} {'p50/p50(1)':>10}")
        for subs, p50, p99 in rows:
            print(f"{subs:>5} {p50 * 1000:>8.0f} {p99 * 1000:>8.0f} {p50 / base_p50:>10.2f}")
    finally:
        host.terminate()
        standins.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
