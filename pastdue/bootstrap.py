"""The composition root: builds the adapters once per process, lazily, on first use.

Nothing here runs at import time, so importing function_app stays cheap (cold start).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache
from typing import TYPE_CHECKING, Any

from pastdue.adapters.clock import Clock, SystemClock
from pastdue.domain.policy import Policy
from pastdue.services.deps import Deps
from pastdue.settings import Settings, load_settings

if TYPE_CHECKING:
    from pastdue.adapters.email import EmailSender
    from pastdue.adapters.shard_queue import ShardQueue


class _Process:
    """What this process built, each once, on first use (under one lock): the Cosmos client, the use cases'
    dependencies, the e-mail sender, the shard queue, and the executor that sends what a request queued."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # a build may need another (deps needs the client)
        self.clock: Clock = SystemClock()
        self.client: Any = None
        self.deps: Deps | None = None
        self.sender: EmailSender | None = None
        self.shard_queue: ShardQueue | None = None
        self.background: ThreadPoolExecutor | None = None
        self.pending: set[Future] = set()

    def once(self, name: str, build: Callable[[], Any]) -> Any:
        with self.lock:
            if getattr(self, name) is None:
                setattr(self, name, build())
            return getattr(self, name)

    def forget(self) -> None:
        """Every built client (the clock stays as set)."""
        with self.lock:
            self.client = self.deps = self.sender = self.shard_queue = None


_process = _Process()


@cache
def settings() -> Settings:
    return load_settings()


def load_policy(path: str) -> Policy:
    """The policy file's policy, read over the shipped one (pastdue/policy)."""
    from pastdue.policy import load

    return load(path)


def use_clock(clock: Clock) -> None:
    """The local host's test clock replaces the system clock (business time only)."""
    _process.clock = clock


def clock() -> Clock:
    return _process.clock


def cosmos_client():
    def build():
        from pastdue.adapters.cosmos import make_client

        return make_client(settings())

    return _process.once("client", build)


def ping_store() -> None:
    """One read of the database: what /api/health asks."""
    cosmos_client().get_database_client(settings().cosmos_database).read()


def container(name: str):
    return cosmos_client().get_database_client(settings().cosmos_database).get_container_client(name)


def deps() -> Deps:
    if _process.deps is not None:
        return _process.deps
    return _process.once("deps", _build_deps)


def _build_deps() -> Deps:
    from pastdue.adapters import telemetry
    from pastdue.adapters.cosmos import CosmosAccountStore, CosmosCustomerData

    config = settings()
    return Deps(
        store=CosmosAccountStore(container("accounts"), config.history_retention_days),
        customer_data=CosmosCustomerData(container("customerData")),
        gateway=make_gateway(config),
        policy=load_policy(config.policy_file),
        clock=_ClockProxy(),
        after_notices_queued=_drain_account,
        later=_later,
        branding=config.branding,
        metrics=telemetry.setup(
            config.insights_connection_string, config.azure_client_id, config.telemetry_sampling_ratio
        ),
    )


def make_gateway(config: Settings):
    """PAYMENT_GATEWAY selects the processor: the sandbox (test tokens, a ledger in Cosmos) or Stripe."""
    if config.payment_gateway == "stripe":
        if config.stripe_secret_error or not config.stripe_secret_key:
            from pastdue.adapters.gateway import UnavailableGateway

            return UnavailableGateway("stripe", config.stripe_secret_error or "STRIPE_SECRET_KEY is not set")
        from pastdue.adapters.stripe_gateway import StripeGateway

        return StripeGateway(
            config.stripe_secret_key,
            config.stripe_api_base,
            config.stripe_publishable_key,
            js_url=config.stripe_js_url,
        )
    from pastdue.adapters.cosmos.ledger import CosmosLedger
    from pastdue.adapters.gateway import SandboxGateway

    return SandboxGateway(CosmosLedger(container("gatewayLedger")))


def email_sender() -> EmailSender:
    def build() -> EmailSender:
        given = settings()
        if given.email_transport == "smtp":
            from pastdue.adapters.smtp_sender import SmtpSender

            return SmtpSender(given.email_sender, given.smtp_host, given.smtp_port, given.branding.sender_name)
        from pastdue.adapters.acs_sender import AcsSender

        return AcsSender(given.email_sender, given.acs_endpoint, given.acs_connection_string)

    return _process.once("sender", build)


def reset() -> None:
    """Forget every built client (tests that change settings)."""
    _process.forget()
    settings.cache_clear()


class _ClockProxy(Clock):
    def now(self):
        return _process.clock.now()


def _drain_account(account_id: str) -> None:
    """Send what a request just queued, right after it is answered: the answer never waits for the
    e-mail service. If this process stops first, the notices are still queued (noticesDueAt) and
    send_notices sends them within the minute."""
    from pastdue.services.notices import drain_account

    executor = _process.once("background", lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="notices"))
    future = executor.submit(_quietly, drain_account, deps(), email_sender(), notice_quota(), account_id)
    with _process.lock:
        _process.pending.add(future)
    future.add_done_callback(_forget)


def _later(work) -> None:
    """Run work after the request is answered, on the background executor (what it does is reserved in
    the store first: if this process stops, the sweep finishes it)."""
    executor = _process.once("background", lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="notices"))
    future = executor.submit(_logged, work)
    with _process.lock:
        _process.pending.add(future)
    future.add_done_callback(_forget)


def _logged(work) -> None:
    try:
        work()
    except Exception:  # what it would have sent is reserved: the sweep (or a redelivery) sends it
        logging.getLogger("pastdue").exception("background work failed; what it reserved is resumed later")


def _quietly(work, *args) -> None:
    try:
        work(*args)
    except Exception:  # the drain isolates accounts itself; whatever is left, the timer sends later
        logging.getLogger("pastdue.notices").exception("sending just-queued notices failed; send_notices retries")


def _forget(done: Future) -> None:
    with _process.lock:
        _process.pending.discard(done)


def settle(timeout: float = 30) -> None:
    """Wait until the notices queued by earlier requests are sent (the local host's tests ask this)."""
    with _process.lock:
        pending = list(_process.pending)
    wait(pending, timeout=timeout)


def drain_all() -> dict:
    from pastdue.services.notices import drain_all as drain

    return drain(deps(), email_sender(), notice_quota())


def notice_quota():
    from pastdue.adapters.cosmos.quota import CosmosQuota

    config = settings()
    return CosmosQuota(container("control"), config.email_quota_per_minute, config.email_quota_per_hour)


def sweep_runs():
    from pastdue.adapters.cosmos.sweep_runs import CosmosSweepRuns

    return CosmosSweepRuns(container("control"))


def shard_queue() -> ShardQueue | None:
    """The sweep's work queue, or None when none is configured (the timer then sweeps every shard itself)."""
    config = settings()
    if not (config.sweep_queue_connection or config.sweep_queue_uri):
        return None

    def build():
        from pastdue.adapters.storage_queue import StorageShardQueue

        return StorageShardQueue(
            config.sweep_queue, config.sweep_queue_connection, config.sweep_queue_uri, config.azure_client_id
        )

    return _process.once("shard_queue", build)


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
