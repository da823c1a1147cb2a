"""The whole audit timeline of an account through the store's paged read, oldest first."""

from __future__ import annotations


def full_history(store, account_id: str) -> list[dict]:
    entries, before = [], None
    while True:
        page = store.history(account_id, before=before, limit=500)
        entries += page.entries
        if page.before is None:
            return list(reversed(entries))
        before = page.before
