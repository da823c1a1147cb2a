"""Use cases of support (role Billing.Support): find accounts, and act on one with a reason."""

from __future__ import annotations

from pastdue.adapters.store import AccountFilter
from pastdue.domain import events as ev
from pastdue.domain.model import Account
from pastdue.services.change import change
from pastdue.services.deps import Deps
from pastdue.services.effects import run_effects


def find_accounts(deps: Deps, where: AccountFilter, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
    """A page of the accounts that match, and the cursor of the next page (None on the last)."""
    return deps.store.find(where, limit, cursor)


def act(deps: Deps, account_id: str, event, account: Account | None = None) -> Account:
    """Apply one support action (history records who and why); the account as it is now."""
    account = run_effects(deps, change(deps, account_id, event, account=account)).account
    if isinstance(event, ev.NoticeResent) and deps.after_notices_queued:
        deps.after_notices_queued(account_id)  # queued again: sent now, not at the next timer
    return account
