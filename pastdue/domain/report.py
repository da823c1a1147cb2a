"""The recovery report, from accounts' histories (pure): of the charges that failed, the share recovered by
day since the failure, overall and by decline category (pastdue/domain/retries.py)."""

from __future__ import annotations

from collections import defaultdict

from pastdue.domain.codec import parse_time
from pastdue.domain.retries import retry_class

MILESTONES = (1, 3, 7, 14, 21, 30, 60, 90)


def recovery_report(histories: list[list[dict]]) -> dict:
    """`histories`: each account's history records (any order). A charge is recovered when a card retry or a
    new card took it (`charge.succeeded` paying it) or transfers settled it (`charge.settled`, paid)."""
    failures: dict[tuple, tuple] = {}
    recovered: dict[tuple, object] = {}
    for n, history in enumerate(histories):
        for entry in sorted(history, key=lambda e: (e.get("at", ""), e.get("seq", 0))):
            detail = entry.get("detail") or {}
            key = (n, detail.get("chargeId"))
            if entry.get("kind") == "charge.failed" and key not in failures:
                failures[key] = (parse_time(entry["at"]), retry_class(detail.get("declineCode")))
            elif (
                key in failures
                and key not in recovered
                and (
                    (entry.get("kind") == "charge.succeeded" and detail.get("applied", {}).get("value", 0) > 0)
                    or (entry.get("kind") == "charge.settled" and detail.get("paid"))
                )
            ):
                recovered[key] = parse_time(entry["at"])
    groups: dict[str, list] = defaultdict(list)
    for key, (failed_at, kind) in failures.items():
        days = (recovered[key] - failed_at).days if key in recovered else None
        groups["all"].append(days)
        groups[kind].append(days)

    def summary(days: list) -> dict:
        total = len(days)
        return {
            "failed": total,
            "recovered": sum(1 for d in days if d is not None),
            "recoveredByDay": {
                str(m): round(sum(1 for d in days if d is not None and d <= m) / total, 3) for m in MILESTONES
            },
        }

    return {kind: summary(days) for kind, days in sorted(groups.items())}
