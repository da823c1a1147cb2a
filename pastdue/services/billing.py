"""Use cases of the billing system: accounts, subscriptions, failed charges, transfers received."""

from __future__ import annotations

from pastdue.adapters.store import AlreadyExists
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import Account
from pastdue.services.unit import Deps, change, run_effects


def put_account(deps: Deps, account_id: str, profile: ev.ProfileSet) -> tuple[Account, bool]:
    """Create or update; returns (account, created)."""
    if deps.store.get(account_id) is None:
        blank = Account(account_id, profile.admin, currency=profile.currency)
        new, _ = decide(blank, profile, deps.policy, deps.clock.now())
        try:
            return deps.store.create(new), True
        except AlreadyExists:
            pass  # created concurrently: update it instead
    account, _ = change(deps, account_id, profile)
    return account, False


def put_subscription(deps: Deps, account_id: str, event: ev.SubscriptionSet) -> tuple[Account, bool]:
    seen: dict = {}

    def decide_event(account: Account):
        seen["created"] = event.subscription_id not in account.subscriptions
        return event

    account, _ = change(deps, account_id, decide_event)
    return account, seen["created"]


def record_event(deps: Deps, account_id: str, event) -> str:
    """charge.failed and payment.received: 'processed', or 'duplicate' for an event id seen before."""
    seen: dict = {}

    def decide_event(account: Account):
        seen["duplicate"] = event.event_id in account.processed_events
        return event

    account, effects = change(deps, account_id, decide_event)
    run_effects(deps, account, effects)
    return "duplicate" if seen["duplicate"] else "processed"
