"""What a use case works with: the adapters, the policy and the clock (built once per process by
pastdue/bootstrap.py), and the two failures every use case may meet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pastdue.adapters.clock import Clock
from pastdue.adapters.gateway import PaymentGateway
from pastdue.adapters.store import AccountStore, CustomerData
from pastdue.adapters.telemetry import Metrics
from pastdue.domain.policy import Policy
from pastdue.notices.branding import Branding


class AccountNotFound(Exception):
    pass


class Contention(Exception):
    """Too many concurrent writers on one account; the caller may retry."""


@dataclass
class Deps:
    store: AccountStore
    customer_data: CustomerData
    gateway: PaymentGateway
    policy: Policy
    clock: Clock
    after_notices_queued: Callable[[str], None] | None = None
    # Runs work after the request that asked for it is answered (the host's background executor); None:
    # at once, in the caller (in-memory tests, scripts).
    later: Callable[[Callable[[], object]], None] | None = None
    branding: Branding = field(default_factory=Branding)
    metrics: Metrics = field(default_factory=Metrics)
