"""python -m pastdue.simulate [--policy FILE] [--plan NAME] [--scenario NAME ...] [--days N] [--chart FILE.png]
python -m pastdue.simulate --report EXPORT.json

What a dunning policy does, before it is deployed: the real domain (pastdue/domain) runs each standard
scenario on a simulated clock, one sweep a day, and prints each day's steps (retry and its answer, notice,
disable, delete) as a table; --chart draws the timelines (matplotlib, a dev dependency). A policy file is
checked with the same rules as the app's (an invalid one is refused with the same error).

Scenarios: recovers-day-N (a soft decline whose card pays from day N on, e.g. recovers-day-5), never-pays
(a decline of no known reason), insufficient-funds and try-later (never paying, retried by their reason's
timing), hard-decline, invoice-payer, card-expiring (a healthy account whose card expires next month).

--report: the recovery report of real accounts, from a JSON export of their histories (a list of GET
history answers, {"accountId", "entries"}): of the charges that failed, the share recovered by day since
the failure, overall and by decline category.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import (
    CARD,
    DECLINED,
    INVOICE,
    SUCCEEDED,
    Account,
    Admin,
    AttemptOutcome,
    PaymentMethod,
    Remittance,
    Subscription,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Policy, PolicyError

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday; every run starts here, so runs compare
DEFAULT_SCENARIOS = (
    "recovers-day-5",
    "never-pays",
    "insufficient-funds",
    "try-later",
    "hard-decline",
    "invoice-payer",
    "card-expiring",
)
CODES = {
    "hard-decline": "expired_card",
    "insufficient-funds": "insufficient_funds",
    "try-later": "processing_error",
    "invoice-payer": None,
}


@dataclass
class Timeline:
    scenario: str
    days: dict[int, list[str]] = field(default_factory=dict)

    def add(self, day: int, step: str) -> None:
        self.days.setdefault(day, []).append(step)


def _account(scenario: str, plan: str) -> Account:
    invoice = scenario == "invoice-payer"
    account = Account(
        "sim-1",
        Admin("sim", "admin@example.com", "Ada"),
        payment_mode=INVOICE if invoice else CARD,
        payment_method=None if invoice else PaymentMethod("tok_sim", "visa", "4242", 12, 2030),
        remittance=Remittance("FR7630006000011234567890189", "AGRIFRPP", "INV-1") if invoice else None,
    )
    account.subscriptions["sub-1"] = Subscription("sub-1", "Production", plan)
    return account


def _answer(scenario: str, day: int) -> tuple[AttemptOutcome, str | None]:
    if scenario.startswith("recovers-day-") and day >= _recovery_retry(scenario):
        return SUCCEEDED, None
    return DECLINED, CODES.get(scenario, "card_declined")


def _recovery_retry(scenario: str) -> int:
    return int(scenario.removeprefix("recovers-day-"))


def run(policy: Policy, scenario: str, days: int = 130, plan: str = "default") -> Timeline:
    """One scenario, a sweep a day at START's hour, through the real decide()."""
    if scenario not in DEFAULT_SCENARIOS and not (
        scenario.startswith("recovers-day-") and scenario.removeprefix("recovers-day-").isdigit()
    ):
        raise ValueError(f"unknown scenario {scenario}: {', '.join(DEFAULT_SCENARIOS)} or recovers-day-N")
    code = CODES.get(scenario, "card_declined")
    account, timeline = _account(scenario, plan), Timeline(scenario)
    if scenario == "card-expiring":  # healthy, paying by a card that expires at the end of next month
        account.payment_method = PaymentMethod(
            "tok_sim", "visa", "4242", (START.month % 12) + 1, START.year + (START.month == 12)
        )
        timeline.add(0, "card on file expires next month")
    else:
        account, _ = decide(
            account, ev.ChargeFailed("evt-1", "sub-1", "ch-1", Money(4999, "EUR"), code, START), policy, START
        )
        timeline.add(0, "charge failed" + (f" ({code})" if code else ""))
    _notices(account, timeline, 0, set())
    seen = {n.notice_id for n in account.outbox}
    for day in range(1, days + 1):
        now = START + timedelta(days=day)
        account, effects = decide(account, ev.SweepTick(), policy, now)
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        if tries:
            retry = day
            answers = []
            for attempt in tries:
                outcome, decline = _answer(scenario, retry)
                answers.append(
                    ev.AttemptResult(
                        attempt.charge_id,
                        attempt.key,
                        outcome,
                        decline,
                        attempt.amount if outcome == "succeeded" else None,
                    )
                )
                timeline.add(day, f"retry: {outcome}")
            account, effects = decide(account, ev.AttemptsResolved(tuple(answers)), policy, now)
            account, more = decide(account, ev.SweepTick(), policy, now)
            effects = effects + more
        for purge in (e for e in effects if isinstance(e, ev.PurgeData)):
            account, _ = decide(account, ev.DataPurged(purge.subscription_id, 0), policy, now)
            timeline.add(day, "data deleted")
        state = account.subscriptions["sub-1"].state
        if state == "disabled" and "disabled" not in _all(timeline):
            timeline.add(day, "disabled")
        seen = _notices(account, timeline, day, seen)
        if state == "active" and account.balance().is_zero and scenario != "card-expiring":
            timeline.add(day, "paid: active")
            break
        if scenario == "card-expiring" and day > 62:
            break
        if state == "deleted" and account.subscriptions["sub-1"].purged_at is not None:
            break
    return timeline


def _all(timeline: Timeline) -> list[str]:
    return [step for steps in timeline.days.values() for step in steps]


def _notices(account: Account, timeline: Timeline, day: int, seen: set) -> set:
    for notice in account.outbox:
        if notice.notice_id not in seen:
            timeline.add(day, f"notice: {notice.kind}")
    return {n.notice_id for n in account.outbox}


def table(timelines: list[Timeline]) -> str:
    lines = []
    for timeline in timelines:
        lines.append(f"{timeline.scenario}")
        lines += [f"  day {day:>3}  {', '.join(steps)}" for day, steps in sorted(timeline.days.items())]
    return "\n".join(lines)


MARKERS = {
    "charge failed": ("x", "black"),
    "retry: declined": ("v", "tab:orange"),
    "retry: succeeded": ("^", "tab:green"),
    "notice": ("o", "tab:blue"),
    "disabled": ("s", "tab:red"),
    "data deleted": ("X", "darkred"),
    "paid: active": ("*", "tab:green"),
}


def chart(timelines: list[Timeline], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(11, 1.6 + 0.9 * len(timelines)))
    labelled = set()
    for row, timeline in enumerate(reversed(timelines)):
        axes.axhline(row, color="lightgrey", linewidth=1, zorder=0)
        for day, steps in timeline.days.items():
            for step in steps:
                key = "notice" if step.startswith("notice") else step.split(" (")[0]
                marker, colour = MARKERS.get(key, ("d", "grey"))
                lane = 0.22 if key == "notice" else (-0.22 if key.startswith("retry") else 0)  # no overlaps
                axes.scatter(
                    day, row + lane, marker=marker, color=colour, s=60, zorder=2, label=None if key in labelled else key
                )
                labelled.add(key)
    axes.set_yticks(range(len(timelines)), [t.scenario for t in reversed(timelines)])
    axes.set_xlabel("days since the charge failed, or since day 0 (retries below each line, notices above)")
    axes.set_ylim(-0.6, len(timelines) - 0.4)
    axes.set_title(title)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, frameon=False, fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None, out=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pastdue.simulate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policy", help="a policy YAML file (default: the one the app ships)")
    parser.add_argument("--plan", default="default")
    parser.add_argument("--scenario", action="append", help="repeatable; default: all four")
    parser.add_argument("--days", type=int, default=130)
    parser.add_argument("--chart", metavar="FILE.png")
    parser.add_argument("--report", metavar="EXPORT.json", help="the recovery report of exported histories")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    if args.report:
        return _report(args.report, out)
    from pastdue.bootstrap import load_policy
    from pastdue.settings import DEFAULT_POLICY

    try:
        policy = load_policy(args.policy or DEFAULT_POLICY)
    except (PolicyError, OSError) as error:
        print(f"error: the policy is refused: {error}", file=sys.stderr)
        return 2
    try:
        timelines = [run(policy, s, args.days, args.plan) for s in (args.scenario or DEFAULT_SCENARIOS)]
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(table(timelines), file=out)
    if args.chart:
        chart(timelines, args.chart, f"pastdue dunning policy ({args.policy or 'default'}, plan {args.plan})")
        print(f"chart written to {args.chart}", file=out)
    return 0


def _report(path: str, out) -> int:
    import json

    from pastdue.domain.report import MILESTONES, recovery_report

    try:
        with open(path, encoding="utf-8") as handle:
            export = json.load(handle)
        histories = [account["entries"] for account in export]
    except (OSError, ValueError, TypeError, KeyError) as error:
        print(f"error: {path} is not a list of history exports ({{accountId, entries}}): {error}", file=sys.stderr)
        return 2
    report = recovery_report(histories)
    head = f"{'category':<16}{'failed':>8}{'recovered':>10}" + "".join(f"{'≤' + str(m) + 'd':>8}" for m in MILESTONES)
    print(head, file=out)
    for kind, row in report.items():
        shares = "".join(f"{row['recoveredByDay'][str(m)]:>8.0%}" for m in MILESTONES)
        print(f"{kind:<16}{row['failed']:>8}{row['recovered']:>10}{shares}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
