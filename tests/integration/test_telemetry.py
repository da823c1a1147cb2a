"""Telemetry through the real OpenTelemetry SDK (an in-memory reader in place of the Azure Monitor exporter):
the metrics a sweep, a drain and the daily book report emit, the account id on log lines, and nothing at all
without a connection string."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import timedelta

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from pastdue import bootstrap
from pastdue.adapters.cosmos.quota import CosmosQuota
from pastdue.adapters.telemetry import METRICS, Metrics, OpenTelemetryMetrics, setup
from pastdue.domain import events as ev
from pastdue.domain.model import CARD
from pastdue.domain.money import Money
from pastdue.services.billing import put_account, put_subscription, record_event
from pastdue.services.notices import drain_all
from pastdue.services.sweep import report_book, run_sweep
from tests.support.busy import new_account


def _points(reader) -> dict:
    found: dict = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, tuple(sorted(point.attributes.items())))
                    found[key] = getattr(point, "value", None) if hasattr(point, "value") else point.sum
    return found


def test_undeclared_metrics_are_refused_and_without_a_connection_string_nothing_is_set_up():
    with pytest.raises(ValueError):
        Metrics().emit("pastdue_made_up", 1)
    assert type(setup(None)) is Metrics


def test_a_failure_its_recovery_the_notices_and_the_book_become_metrics(clock, app_env, caplog):
    reader = InMemoryMetricReader()
    metrics = OpenTelemetryMetrics(MeterProvider(metric_readers=[reader]))
    deps = dataclasses.replace(bootstrap.deps(), metrics=metrics, after_notices_queued=None)
    account_id = f"otel-{uuid.uuid4().hex[:8]}"
    put_account(
        deps,
        account_id,
        ev.ProfileSet(new_account(account_id).admin, CARD, "EUR", deps.gateway.describe("tok_visa"), None),
    )
    put_subscription(deps, account_id, ev.SubscriptionSet("s0", "Production", "default"))
    with caplog.at_level(logging.DEBUG, logger="pastdue"):
        record_event(
            deps,
            account_id,
            ev.ChargeFailed("e-otel", "s0", "ch-otel", Money(4200, "EUR"), "card_declined", clock.now()),
        )
    quota = CosmosQuota(bootstrap.container("control"), 10**4, 10**6, quota_id=f"q-{uuid.uuid4().hex}")
    drain_all(deps, bootstrap.email_sender(), quota)  # as after the webhook: the failure's notice goes
    clock.advance(timedelta(days=1, hours=1))
    run_sweep(deps, 600)  # the day-1 retry on a card that now pays
    drain_all(deps, bootstrap.email_sender(), quota)  # its receipt
    report_book(deps)
    points = _points(reader)
    assert points[("pastdue_charges_failed", (("category", "generic"), ("currency", "EUR")))] >= 1
    assert points[("pastdue_charges_recovered", (("category", "generic"), ("daysSinceFailure", 1)))] >= 1
    assert points[("pastdue_amount_recovered", (("currency", "EUR"),))] >= 4200
    assert points[("pastdue_notices_sent", (("kind", "payment_failed"),))] >= 1
    assert ("pastdue_accounts_by_state", (("state", "active"),)) in points
    assert {name for name, _ in points} <= set(METRICS)
    assert {
        "pastdue_sweep_duration",
        "pastdue_sweep_backlog",
        "pastdue_upcoming_disables",
        "pastdue_upcoming_deletions",
    } <= {name for name, _ in points}
    # Every log line written while an account was worked on names it.
    assert any(getattr(r, "accountId", "") == account_id for r in caplog.records)


def test_the_apps_log_lines_reach_application_insights_once(monkeypatch):
    """With the distro set up, a `pastdue` record is handled by the distro's handler on the `pastdue` logger
    and no longer reaches the root logger, where the Functions worker hands records to the host (which
    would write it to Application Insights a second time)."""
    import logging

    from pastdue.adapters import telemetry

    class Counting(logging.Handler):
        def __init__(self):
            super().__init__()
            self.records = []

        def emit(self, record):
            self.records.append(record)

    app_logger, root = logging.getLogger("pastdue"), logging.getLogger()
    exporter, host = Counting(), Counting()  # the distro's handler; the worker's handler on the root
    saved = (app_logger.level, app_logger.propagate, list(app_logger.handlers))
    app_logger.addHandler(exporter)
    root.addHandler(host)
    try:
        telemetry.one_path_for_app_logs()
        logging.getLogger("pastdue.sweep").info("daily_sweep summary %s", "{}")
        logging.getLogger("azure.functions").warning("a host-side line")
    finally:
        root.removeHandler(host)
        app_logger.setLevel(saved[0])
        app_logger.propagate = saved[1]
        app_logger.handlers[:] = saved[2]
    assert [r.getMessage() for r in exporter.records] == ["daily_sweep summary {}"]
    assert [r.getMessage() for r in host.records] == ["a host-side line"]
    import inspect

    assert "one_path_for_app_logs()" in inspect.getsource(telemetry.setup)  # done wherever the distro is
