"""Use cases of support (role Billing.Support): find accounts, and act on one with a reason."""

from __future__ import annotations

from pastdue.adapters.store import AccountFilter
from pastdue.domain import events as ev
from pastdue.domain.model import Account
from pastdue.services.change import change
from pastdue.services.deps import Deps
from pastdue.services.effects import run_effects
from pastdue.views import account_view, support_summary


def find_accounts(deps: Deps, where: AccountFilter, limit: int, cursor: str | None) -> dict:
    accounts, next_cursor = deps.store.find(where, limit, cursor)
    return {"accounts": [support_summary(a) for a in accounts], "next": next_cursor}


def act(deps: Deps, account_id: str, event, account: Account | None = None) -> dict:
    """Apply one support action (history records who and why) and answer the account as it is now."""
    account, effects = change(deps, account_id, event, account=account)
    account = run_effects(deps, account, effects)
    if isinstance(event, ev.NoticeResent) and deps.after_notices_queued:
        deps.after_notices_queued(account_id)  # queued again: sent now, not at the next timer
    return account_view(account, deps)
