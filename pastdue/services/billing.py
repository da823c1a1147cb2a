"""Use cases of the billing system: accounts, subscriptions, failed charges, transfers received."""

from __future__ import annotations

import dataclasses

from pastdue.adapters.store import AlreadyExists
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import Account
from pastdue.domain.retention import SETTLED_KEEP, SETTLED_KEEP_AUTHENTICATION
from pastdue.services.change import change, change_once
from pastdue.services.deps import Deps
from pastdue.services.effects import run_effects


def put_account(deps: Deps, account_id: str, profile: ev.ProfileSet) -> tuple[Account, bool]:
    """Create or update; returns (account, created)."""
    if deps.store.get(account_id) is None:
        blank = Account(account_id, profile.admin, currency=profile.currency)
        new, _ = decide(blank, profile, deps.policy, deps.clock.now())
        try:
            return deps.store.create(new), True
        except AlreadyExists:
            pass  # created concurrently: update it instead
    account = change(deps, account_id, profile).account
    return account, False


def put_subscription(deps: Deps, account_id: str, event: ev.SubscriptionSet) -> tuple[Account, bool]:
    seen: dict = {}

    def decide_event(account: Account):
        seen["created"] = event.subscription_id not in account.subscriptions
        return event

    account = change(deps, account_id, decide_event).account
    return account, seen["created"]


def record_event(deps: Deps, account_id: str, event) -> str:
    """charge.failed and payment.received: 'processed', or 'duplicate' for an event id seen before."""
    seen: dict = {}

    def decide_event(account: Account):
        seen["duplicate"] = event.event_id in account.processed_events
        if isinstance(event, ev.ChargeFailed) and _maybe_archived(deps, account, event):
            return dataclasses.replace(event, archived=True)
        return event

    done = change_once(deps, account_id, event.event_id, decide_event)
    if done is None:
        return "duplicate"
    run_effects(deps, done)
    return "duplicate" if seen["duplicate"] else "processed"


def _maybe_archived(deps: Deps, account: Account, event: ev.ChargeFailed) -> bool:
    """A failure reported after its charge could have been settled and archived: is it in the archive?
    (Only then is it asked, or for a while after a burst archived charges early: a fresh report of a new
    charge costs no extra read.)"""
    now = deps.clock.now()
    early = account.archived_early_at is not None and now - account.archived_early_at < SETTLED_KEEP_AUTHENTICATION
    if account.charge(event.charge_id) is not None or (event.occurred_at > now - SETTLED_KEEP and not early):
        return False
    return deps.store.archived_charge(account.account_id, event.charge_id)
