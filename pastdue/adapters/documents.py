"""The stored account document: how the model is written (one document per account, with the items the
store archives beside it) and read back, and what one write of a decision holds. No Azure import: every
store (Cosmos, the in-memory one) writes the same documents and archives the same things.

A write stores the decided document less what its stored version already held for good (history records,
settled charges, sent notices: these go to the archive first, under ids derived from them) and less the
event ids the decision marked processed (each an item of its own, created with the document in one batch).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from msgspec import structs

from pastdue.adapters.store import Unreadable, UnreadableAccount
from pastdue.domain.codec import dump, format_time, load
from pastdue.domain.model import RENAMED_NOTICE_KINDS, Account, Charge, Notice
from pastdue.domain.quarantine import after_failure
from pastdue.domain.shards import slot_of

# The times the store queries on (`c.nextActionAt <= @now`): written fixed-width so they compare as strings.
QUERIED_TIMES = (
    ("nextActionAt", "next_action_at"),
    ("noticesDueAt", "notices_due_at"),
    ("nextDisableAt", "next_disable_at"),
    ("nextDeletionAt", "next_deletion_at"),
)
RECORD_FIELDS = ("seq", "at", "kind", "actor", "detail", "subscriptionId")
# A test account (synthetic: the smoke script's) removes itself: Cosmos TTL deletes its document, and what it
# archived, this long after their last write (the accounts container has TTL on, with no default).
SYNTHETIC_TTL_SECONDS = 14 * 86_400


def to_document(account: Account) -> dict:
    # One pass, from the model's declared types (domain/model.py); the store's own notes are no part of it.
    doc = dump(structs.replace(account, etag=None, stored=None))
    for key, name in QUERIED_TIMES:
        if (at := getattr(account, name)) is not None:
            doc[key] = format_time(at)
    doc["sweepSlot"] = slot_of(account.account_id)  # which shard of a fanned-out sweep visits it
    doc["id"] = account.account_id
    doc["type"] = "account"
    if account.synthetic:
        doc["ttl"] = SYNTHETIC_TTL_SECONDS
    return doc


def upgrade(doc: dict) -> dict:
    """A document written by an earlier release, in this release's shape (in memory; the next write
    stores it): history records get their seq, processed event ids the time they were last written, and
    notice kinds renamed since get today's name."""
    if "historySeq" not in doc and isinstance(doc.get("history"), list):
        for n, entry in enumerate(doc["history"], 1):
            if isinstance(entry, dict):
                entry["seq"] = n
        doc["historySeq"], doc["archivedSeq"] = len(doc["history"]), 0
    for field in ("outbox", "archiveNotices"):  # notice kinds stored under an earlier name
        for notice in doc.get(field) or ():
            if isinstance(notice, dict) and notice.get("kind") in RENAMED_NOTICE_KINDS:
                notice["kind"] = str(RENAMED_NOTICE_KINDS[notice["kind"]])
    if isinstance(doc.get("processedEvents"), list):
        ts = doc.get("_ts")
        at = format_time(datetime.fromtimestamp(ts, UTC)) if isinstance(ts, int) else format_time(datetime.now(UTC))
        doc["processedEvents"] = {event_id: at for event_id in doc["processedEvents"] if isinstance(event_id, str)}
    return doc


def from_document(doc: dict) -> Account:
    try:
        doc = upgrade(doc)
        account = load(Account, doc)  # one pass; the keys Cosmos adds (_rid, _etag, ...), id and type are ignored
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
        raise UnreadableAccount(str(doc.get("id")), f"{type(error).__name__}: {error}"[:300]) from None
    account.etag = doc.get("_etag")
    account.stored = Stored.of(account, frozenset(account.processed_events.items()), doc)
    return account


def load_or_mark(doc: dict) -> Account | Unreadable:
    """In a page of documents: one that no longer loads is handed on as Unreadable, never stops the page."""
    try:
        return from_document(doc)
    except UnreadableAccount as error:
        return Unreadable(error.account_id, error.reason)


class Stored(NamedTuple):
    """What a stored document already holds for good: its records, and the charges and notices it hands to
    the archive. Only these are archived by the next write (whatever that write decides, they happened).
    `events`: the (event id, when) the document itself kept (an earlier release): every one becomes an item
    on the next write, also those the decision forgets meanwhile (older than the window the document had)."""

    seq: int
    charges: frozenset[str]
    notices: frozenset[str]
    events: frozenset[tuple[str, str]]
    # The document as read or written (Cosmos's own `_` keys aside): a decision whose document is the same
    # is not written (no request, no new etag).
    document: dict | None = None

    @classmethod
    def of(
        cls, account: Account, events: frozenset[tuple[str, str]] = frozenset(), document: dict | None = None
    ) -> Stored:
        return cls(
            account.history_seq,
            frozenset([c.charge_id for c in account.archive_charges]),
            frozenset([n.notice_id for n in account.archive_notices]),
            events,
            None if document is None else {k: v for k, v in document.items() if k[:1] != "_"},  # (not Cosmos's)
        )


class Write(NamedTuple):
    """One write of a decided account: what goes to the archive first, then the document (If-Match on the
    etag the account was read with) with the new event ids, and the account as it is once written."""

    document: dict
    records: list[dict]  # history records the stored document held: archived, out of the document
    settled: list[Charge]
    sent: list[Notice]
    earlier_events: dict[str, str]  # event ids a document of an earlier release kept: archived
    new_events: dict[str, str]  # event ids this decision marked processed: created with the document
    written: Account  # its etag is the store's to set


def plan_write(account: Account) -> Write | None:
    """What writing this decided account takes; None when its document is the one stored (no write)."""
    stored = account.stored or Stored(account.archived_seq, frozenset(), frozenset(), frozenset())
    doc = to_document(account)
    if doc == stored.document:
        return None
    records = [r for r in account.history if r["seq"] <= stored.seq]
    settled = [c for c in account.archive_charges if c.charge_id in stored.charges]
    sent = [n for n in account.archive_notices if n.notice_id in stored.notices]
    earlier = dict(stored.events)
    new_events = {k: at for k, at in account.processed_events.items() if k not in earlier}
    doc.pop("processedEvents", None)  # items of their own now (an earlier release's list goes too)
    if doc.get("history") and doc["history"][0]["seq"] <= stored.seq:
        doc["history"] = [r for r in doc["history"] if r["seq"] > stored.seq]
    if settled:
        doc["archiveCharges"] = [c for c in doc["archiveCharges"] if c["chargeId"] not in stored.charges]
    if sent:
        doc["archiveNotices"] = [n for n in doc["archiveNotices"] if n["noticeId"] not in stored.notices]
    archived = max(account.archived_seq, stored.seq)
    if archived:
        doc["archivedSeq"] = archived
    # What is written is what was decided, less what went to the archive: no second load.
    written = structs.replace(
        account,
        history=[r for r in account.history if r["seq"] > stored.seq] if records else account.history,
        archive_charges=[c for c in account.archive_charges if c.charge_id not in stored.charges],
        archive_notices=[n for n in account.archive_notices if n.notice_id not in stored.notices],
        archived_seq=archived,
        processed_events={},
    )
    written.stored = Stored.of(written, document=doc)
    return Write(doc, records, settled, sent, earlier, new_events, written)


def count_failure(doc: dict, where: str, reason: str, now: datetime, permanent: bool) -> dict:
    """Count a failed run on a stored document as it is (it may not load): back off the due time of
    `where` ("sweep" or "notices"), or quarantine it (domain/quarantine.py) with a history record.
    Changes `doc`; returns {"failures", "quarantined"}."""
    due_field = {"sweep": "nextActionAt", "notices": "noticesDueAt"}[where]
    previous = doc.get("failures")
    decision = after_failure(previous if type(previous) is int else 0, now, permanent)
    doc["failures"] = decision.failures
    if decision.quarantined:
        doc["quarantine"] = {"at": format_time(now), "where": where, "reason": reason, "failures": decision.failures}
        doc["nextActionAt"] = doc["noticesDueAt"] = None
        if "history" not in doc:  # left out while empty: none yet, or all archived (historySeq kept)
            doc["history"] = []
            doc.setdefault("historySeq", 0)
        if isinstance(doc.get("history"), list):
            entry = {
                "at": format_time(now),
                "kind": "account.quarantined",
                "actor": "system",
                "detail": {"where": where, "reason": reason, "failures": decision.failures},
                "subscriptionId": None,
            }
            if type(doc.get("historySeq")) is int:  # else upgrade() numbers it with the others
                doc["historySeq"] += 1
                entry["seq"] = doc["historySeq"]
            doc["history"].append(entry)
    else:
        doc[due_field] = format_time(decision.retry_at)
    return {"failures": decision.failures, "quarantined": decision.quarantined}
