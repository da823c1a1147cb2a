"""The policy simulator runs the real domain: its timelines are the calendar the app keeps (the same days
as the e2e lifecycle), and it refuses a policy the app would refuse, with the same error."""

from __future__ import annotations

import io
from typing import Any

from pastdue.domain.model import SUCCEEDED
from pastdue.policy import shipped
from pastdue.simulate import main, run


def _days(timeline, prefix: str) -> list[int]:
    return [day for day, steps in sorted(timeline.days.items()) if any(s.startswith(prefix) for s in steps)]


def test_the_default_policy_as_simulated_is_the_calendar_the_app_keeps():
    never = run(shipped(), "never-pays")
    assert _days(never, "retry") == [1, 3, 5, 7, 14, 21]
    assert _days(never, "notice") == [0, 3, 7, 14, 21, 28, 30, 90, 113, 119, 120]
    assert _days(never, "disabled") == [30] and _days(never, "data deleted") == [120]
    recovers = run(shipped(), "recovers-day-5")
    assert _days(recovers, "paid") == [5] and max(recovers.days) == 5
    for scenario in ("hard-decline", "invoice-payer"):
        assert _days(run(shipped(), scenario), "retry") == []


def test_a_policy_the_app_refuses_is_refused_with_the_same_error(tmp_path, capsys):
    bad = tmp_path / "policy.yaml"
    bad.write_text("default:\n  finalNoticeDay: 40\n  disableDay: 30\n")
    assert main(["--policy", str(bad)], out=io.StringIO()) == 2
    assert "finalNoticeDay must come before disableDay" in capsys.readouterr().err


def test_the_table_and_the_chart(tmp_path):
    out, png = io.StringIO(), tmp_path / "policy.png"
    assert main(["--scenario", "recovers-day-3", "--chart", str(png)], out=out) == 0
    assert "day   3  retry: succeeded" in out.getvalue() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["--scenario", "sometimes"], out=io.StringIO()) == 2


def test_the_recovery_report_from_exported_histories(tmp_path):
    import json

    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide
    from pastdue.domain.money import Money
    from pastdue.domain.report import recovery_report
    from tests.unit.builders import POLICY, T0, account, days, failed

    histories: list[dict[str, Any]] = []
    for n, (code, paid_on, how) in enumerate(
        [
            ("insufficient_funds", 12, "retry"),
            ("insufficient_funds", None, None),
            ("card_declined", 3, "transfer"),
            ("processing_error", 1, "retry"),
        ]
    ):
        acc, _ = decide(account(), failed(f"ch-{n}", code=code), POLICY, T0)
        if how == "transfer":
            assert paid_on is not None
            acc, _ = decide(acc, ev.PaymentReceived(f"p-{n}", Money(1000, "EUR"), "r"), POLICY, T0 + days(paid_on))
        elif how == "retry":
            assert paid_on is not None and acc.payment_method is not None
            at = T0 + days(paid_on)
            acc, _ = decide(acc, ev.PayNowRequested(f"k-{n}", "h", acc.payment_method, "u"), POLICY, at)
            key = acc.charges[0].attempts[-1].key
            acc, _ = decide(acc, ev.AttemptsResolved((ev.AttemptResult(f"ch-{n}", key, SUCCEEDED),)), POLICY, at)
        histories.append({"accountId": f"acct-{n}", "entries": list(reversed(acc.history))})
    report = recovery_report([h["entries"] for h in histories])
    assert report["all"]["failed"] == 4 and report["all"]["recovered"] == 3
    assert report["all"]["recoveredByDay"]["1"] == 0.25 and report["all"]["recoveredByDay"]["14"] == 0.75
    assert report["funds"] == {
        "failed": 2,
        "recovered": 1,
        "recoveredByDay": {"1": 0.0, "3": 0.0, "7": 0.0, "14": 0.5, "21": 0.5, "30": 0.5, "60": 0.5, "90": 0.5},
    }
    export = tmp_path / "export.json"
    export.write_text(json.dumps(histories))
    out = io.StringIO()
    assert main(["--report", str(export)], out=out) == 0
    assert "funds" in out.getvalue() and "tryLater" in out.getvalue() and "generic" in out.getvalue()
