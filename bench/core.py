"""The sweep's CPU per due account: the document parsed, loaded, the tick decided, dumped, serialised for the
replace, and the replace's answer parsed and loaded (what runs in the app's process for each account).

Usage: python -m bench.core [accounts]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

from bench.common import machine


def realistic_account():
    """Three subscriptions, two past due with attempts, a dozen notices and fifty history entries."""
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide
    from pastdue.domain.policy import Policy
    from tests.unit.builders import T0, account, failed

    policy, acc = Policy(), account(subs=3)
    acc, _ = decide(acc, failed("ch-a", "sub-0", 4999), policy, T0)
    acc, _ = decide(acc, failed("ch-b", "sub-1", 12000), policy, T0 + timedelta(days=2))
    for day in (1, 3, 5, 7):
        at = T0 + timedelta(days=day, hours=2)
        acc, effects = decide(acc, ev.SweepTick(), policy, at)
        results = tuple(ev.AttemptResult(e.charge_id, e.key, "declined", "card_declined")
                        for e in effects if isinstance(e, ev.TryCharge))
        acc, _ = decide(acc, ev.AttemptsResolved(results), policy, at)
    return acc, policy, T0 + timedelta(days=14, hours=2)


def as_stored(acc) -> dict:
    """The document as the store keeps it: the records of its last write only (the rest are archived),
    with the fields Cosmos adds."""
    from pastdue.adapters.cosmos import to_document

    doc = to_document(acc)
    last = doc["history"][-3:]
    doc.update(history=last, archivedSeq=last[0]["seq"] - 1, _etag='"00000000-0000-0000-0000-000000000000"',
               _rid="abc==", _self="dbs/abc==/colls/def=/docs/ghi==/", _ts=1767600000, _attachments="attachments/")
    return doc


def main(n: int) -> None:
    from pastdue.adapters.cosmos import from_document, to_document
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide

    acc, policy, when = realistic_account()
    raw = json.dumps(as_stored(acc))
    print(f"machine: {machine()}")
    print(f"inputs: {n} due accounts; each {len(acc.subscriptions)} subscriptions, {len(acc.charges)} charges, "
          f"{len(acc.outbox)} notices, {len(json.loads(raw)['history'])} history entries in the document, "
          f"{len(raw)} bytes as JSON")
    started = time.process_time()
    for _ in range(n):
        # The sweep's path for one account: the SDK parses it from the query page, the app loads it,
        # decides the tick and dumps it, and the SDK serialises the replace (whose answer has no body:
        # the store asks for none and keeps what it decided, with the answer's etag).
        loaded = from_document(json.loads(raw))
        decided, _ = decide(loaded, ev.SweepTick(), policy, when)
        json.dumps(to_document(decided))
    per_account = (time.process_time() - started) / n
    print(f"CPU per due account (load + decide + dump): {per_account * 1e6:.0f} µs; "
          f"{1 / per_account:.0f} decisions/s on one core")
    print(f"ratio to the 0.5 ms goal: {per_account / 0.0005:.2f} (goal < 1)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
