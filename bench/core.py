"""The sweep's CPU per due account: the document parsed, loaded, the tick decided, dumped and serialised for
the replace (what runs in the app's process for each account), beside the JSON floor: json.loads and
json.dumps of the same stored document, measured in the same run.

Usage: python -m bench.core [accounts]
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

from bench.common import machine
from pastdue.policy import shipped

SDK = (",", ":")  # how azure-cosmos serialises a body (_synchronized_request._request_body_from_data)


def realistic_account():
    """Three subscriptions, two past due with attempts, a dozen notices and fifty history entries."""
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide
    from pastdue.domain.model import DECLINED
    from tests.unit.builders import T0, account, failed

    policy, acc = shipped(), account(subs=3)
    acc, _ = decide(acc, failed("ch-a", "sub-0", 4999), policy, T0)
    acc, _ = decide(acc, failed("ch-b", "sub-1", 12000), policy, T0 + timedelta(days=2))
    for day in (1, 3, 5, 7):
        at = T0 + timedelta(days=day, hours=2)
        acc, effects = decide(acc, ev.SweepTick(), policy, at)
        results = tuple(
            ev.AttemptResult(e.charge_id, e.key, DECLINED, "card_declined")
            for e in effects
            if isinstance(e, ev.TryCharge)
        )
        acc, _ = decide(acc, ev.AttemptsResolved(results), policy, at)
    return acc, policy, T0 + timedelta(days=14, hours=2)


def as_stored(acc) -> dict:
    """The document as the store keeps it: the records of its last write only (the rest are archived),
    with the fields Cosmos adds."""
    from pastdue.adapters.documents import to_document

    doc = to_document(acc)
    last = doc["history"][-3:]
    doc.update(
        history=last,
        archivedSeq=last[0]["seq"] - 1,
        _etag='"00000000-0000-0000-0000-000000000000"',
        _rid="abc==",
        _self="dbs/abc==/colls/def=/docs/ghi==/",
        _ts=1767600000,
        _attachments="attachments/",
    )
    return doc


def main(n: int) -> None:
    from pastdue.adapters.documents import from_document, to_document
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide_in_place
    from pastdue.services.observe import Before

    acc, policy, when = realistic_account()
    raw = json.dumps(as_stored(acc))
    print(f"machine: {machine()}")
    print(
        f"inputs: {n} due accounts; each {len(acc.subscriptions)} subscriptions, {len(acc.charges)} charges, "
        f"{len(acc.outbox)} notices, {len(json.loads(raw)['history'])} history entries in the document, "
        f"{len(raw)} bytes as JSON"
    )

    def floor() -> None:
        json.dumps(json.loads(raw), separators=SDK)  # the least any code that reads and writes it can do

    def path() -> None:
        # The sweep's path for one account (services/change.change): the SDK parses it from the query page,
        # the app loads it, keeps what the metrics compare, decides the tick on it, dumps it and sees that
        # the document changed, and the SDK serialises the replace (whose answer has no body: the store asks for none
        # and keeps what it decided, with the answer's etag).
        loaded = from_document(json.loads(raw))
        Before.of(loaded)
        decided, _ = decide_in_place(loaded, ev.SweepTick(), policy, when)
        doc = to_document(decided)
        assert doc != decided.stored.document  # changed: written
        json.dumps(doc, separators=SDK)

    timings: dict[str, list[float]] = {"floor": [], "path": []}
    for _ in range(5):  # interleaved rounds, so both meet the same machine
        for name, step in (("floor", floor), ("path", path)):
            started = time.process_time()
            for _ in range(n // 5):
                step()
            timings[name].append((time.process_time() - started) / (n // 5))
    floor_s, path_s = min(timings["floor"]), min(timings["path"])
    print(f"JSON floor (json.loads + json.dumps of the stored document): {floor_s * 1e6:.0f} µs")
    print(
        f"CPU per due account (SDK parse + load + decide + dump + SDK serialise): {path_s * 1e6:.0f} µs; "
        f"{1 / path_s:.0f} decisions/s on one core"
    )
    print(f"ratio to the JSON floor: {path_s / floor_s:.2f} (goal <= 2.5)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
