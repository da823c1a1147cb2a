"""The whole audit timeline of an account through the store's paged read, oldest first."""

from __future__ import annotations


def full_history(store, account_id: str, page_size: int = 5000) -> list[dict]:
    """Big pages: the local stand-in scans the account's partition (no index) for each page's query, so an
    account of 30,000 records is read in a few pages (the API's own pages, at most 500, are tested apart)."""
    entries, before = [], None
    while True:
        page = store.history(account_id, before=before, limit=page_size)
        entries += page.entries
        if page.before is None:
            return list(reversed(entries))
        before = page.before
