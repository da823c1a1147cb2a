"""Use cases of support (role Billing.Support): find accounts, and act on one with a reason."""

from __future__ import annotations

from pastdue.adapters.store import AccountFilter
from pastdue.domain import events as ev
from pastdue.domain.model import Account, Notice
from pastdue.services.change import change
from pastdue.services.deps import AccountNotFound, Deps
from pastdue.services.effects import run_effects


def find_accounts(deps: Deps, where: AccountFilter, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
    """A page of the accounts that match, and the cursor of the next page (None on the last)."""
    return deps.store.find(where, limit, cursor)


def account_notices(deps: Deps, account_id: str) -> list[Notice]:
    """The notices the account still holds (older ones go to its archive), newest first: what support may
    resend is among them, a notice that ended failed."""
    account = deps.store.get(account_id)
    if account is None:
        raise AccountNotFound(account_id)
    return sorted(account.outbox, key=lambda n: n.created_at, reverse=True)


def run_support_action(deps: Deps, account_id: str, event, account: Account | None = None) -> Account:
    """Apply one support action (history records who and why); the account as it is now."""
    account = run_effects(deps, change(deps, account_id, event, account=account)).account
    if isinstance(event, ev.NoticeResent) and deps.after_notices_queued:
        deps.after_notices_queued(account_id)  # queued again: sent now, not at the next timer
    return account
