"""The composition root: builds the adapters once per process, lazily, on first use.

Nothing here runs at import time, so importing function_app stays cheap (cold start).
"""

from __future__ import annotations

import logging
import threading
from functools import cache

import yaml

from pastdue.adapters.clock import Clock, SystemClock
from pastdue.domain.policy import Policy
from pastdue.services.deps import Deps
from pastdue.settings import Settings, load_settings

_lock = threading.Lock()
_state: dict = {}
_clock: list[Clock] = [SystemClock()]


@cache
def settings() -> Settings:
    return load_settings()


def load_policy(path: str) -> Policy:
    with open(path, encoding="utf-8") as handle:
        return Policy.from_document(yaml.safe_load(handle))


def use_clock(clock: Clock) -> None:
    """The local host's test clock replaces the system clock (business time only)."""
    _clock[0] = clock


def clock() -> Clock:
    return _clock[0]


def cosmos_client():
    with _lock:
        if "client" not in _state:
            from pastdue.adapters.cosmos import make_client

            _state["client"] = make_client(settings())
        return _state["client"]


def ping_store() -> None:
    """One read of the database: what /api/health asks."""
    cosmos_client().get_database_client(settings().cosmos_database).read()


def container(name: str):
    return cosmos_client().get_database_client(settings().cosmos_database).get_container_client(name)


def deps() -> Deps:
    if "deps" in _state:
        return _state["deps"]
    from pastdue.adapters import telemetry
    from pastdue.adapters.cosmos import CosmosAccountStore, CosmosCustomerData

    config = settings()
    built = Deps(
        store=CosmosAccountStore(container("accounts"), config.history_retention_days),
        customer_data=CosmosCustomerData(container("customerData")),
        gateway=make_gateway(config),
        policy=load_policy(config.policy_file),
        clock=_ClockProxy(),
        after_notices_queued=_drain_account,
        branding=config.branding,
        metrics=telemetry.setup(config.insights_connection_string, config.azure_client_id),
    )
    with _lock:
        _state.setdefault("deps", built)
    return _state["deps"]


def make_gateway(config: Settings):
    """PAYMENT_GATEWAY selects the processor: the sandbox (test tokens, a ledger in Cosmos) or Stripe."""
    if config.payment_gateway == "stripe":
        if config.stripe_secret_error or not config.stripe_secret_key:
            from pastdue.adapters.gateway import UnavailableGateway

            return UnavailableGateway("stripe", config.stripe_secret_error or "STRIPE_SECRET_KEY is not set")
        from pastdue.adapters.stripe_gateway import StripeGateway

        return StripeGateway(config.stripe_secret_key, config.stripe_api_base, config.stripe_publishable_key)
    from pastdue.adapters.gateway import CosmosLedger, SandboxGateway

    return SandboxGateway(CosmosLedger(container("gatewayLedger")))


def email_sender():
    with _lock:
        if "sender" not in _state:
            from pastdue.adapters.email import make_sender

            _state["sender"] = make_sender(settings())
        return _state["sender"]


def reset() -> None:
    """Forget every built client (tests that change settings)."""
    with _lock:
        _state.clear()
    settings.cache_clear()


class _ClockProxy(Clock):
    def now(self):
        return _clock[0].now()


_background: list = []  # the executor sending notices queued by a request, made on first use


def _drain_account(account_id: str) -> None:
    """Send what a request just queued, right after it is answered: the answer never waits for the
    e-mail service. If this process stops first, the notices are still queued (noticesDueAt) and
    send_notices sends them within the minute."""
    from concurrent.futures import ThreadPoolExecutor

    from pastdue.services.notices import drain_account

    with _lock:
        if not _background:
            _background.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="notices"))
            _background.append(set())
        executor, pending = _background
    future = executor.submit(_quietly, drain_account, deps(), email_sender(), notice_quota(), account_id)
    with _lock:
        pending.add(future)
    future.add_done_callback(lambda done: _forget(pending, done))


def _quietly(work, *args) -> None:
    try:
        work(*args)
    except Exception:  # the drain isolates accounts itself; whatever is left, the timer sends later
        logging.getLogger("pastdue.notices").exception("sending just-queued notices failed; send_notices retries")


def _forget(pending: set, done) -> None:
    with _lock:
        pending.discard(done)


def settle(timeout: float = 30) -> None:
    """Wait until the notices queued by earlier requests are sent (the local host's tests ask this)."""
    from concurrent.futures import wait

    with _lock:
        pending = list(_background[1]) if _background else []
    wait(pending, timeout=timeout)


def drain_all() -> dict:
    from pastdue.services.notices import drain_all as drain

    return drain(deps(), email_sender(), notice_quota())


def notice_quota():
    from pastdue.adapters.quota import CosmosQuota

    config = settings()
    return CosmosQuota(container("control"), config.email_quota_per_minute, config.email_quota_per_hour)


def sweep_runs():
    from pastdue.adapters.sweep_runs import CosmosSweepRuns

    return CosmosSweepRuns(container("control"))


def shard_queue():
    """The sweep's work queue, or None when none is configured (the timer then sweeps every shard itself)."""
    config = settings()
    if not (config.sweep_queue_connection or config.sweep_queue_uri):
        return None
    with _lock:
        if "shard_queue" not in _state:
            from pastdue.adapters.shard_queue import StorageShardQueue

            _state["shard_queue"] = StorageShardQueue(config.sweep_queue, config.sweep_queue_connection,
                                                      config.sweep_queue_uri, config.azure_client_id)
        return _state["shard_queue"]


@cache
def host_queues() -> dict:
    """host.json's extensions.queues, read from the one place the Functions host reads them too."""
    import json
    from pathlib import Path

    host = json.loads((Path(__file__).resolve().parent.parent / "host.json").read_text())
    return host.get("extensions", {}).get("queues", {})


def queue_tries() -> int:
    """How many times the Functions host hands out a queue message before the poison queue (5 when unset)."""
    return int(host_queues().get("maxDequeueCount", 5))
