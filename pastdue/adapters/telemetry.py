"""Telemetry: custom metrics (OpenTelemetry, exported to Azure Monitor) and the account id on every log line.

Set up lazily, on the first use of the app's dependencies and only when APPLICATIONINSIGHTS_CONNECTION_STRING
is set (Azure sets it from the Bicep): importing the app loads none of it (cold start). Without it, metrics
go nowhere. Every metric the code emits is named in METRICS; the workbook and the alert rules in
infra/modules/alerts.bicep query these names (tests/infra checks it).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

# name -> (kind, unit, description). Counters add; gauges are the latest value; histograms spread.
METRICS = {
    "pastdue_charges_failed": ("counter", "1", "failed charges reported by the billing system"),
    "pastdue_charges_recovered": ("counter", "1", "charges paid after a failure (attribute daysSinceFailure)"),
    "pastdue_amount_recovered": ("counter", "minor units", "money collected on failed charges (attribute currency)"),
    "pastdue_notices_sent": ("counter", "1", "notices delivered to the e-mail service"),
    "pastdue_notices_failed": ("counter", "1", "failed sends (each try; the sixth ends the notice failed)"),
    "pastdue_notices_throttled": ("counter", "1", "sends refused by the e-mail quota or the service's 429"),
    "pastdue_unexpected_success": ("counter", "1", "payments taken after a decline or an error was answered (applied)"),
    "pastdue_unexpected_payment": ("counter", "1", "money taken for a charge already settled here (kept as credit)"),
    "pastdue_stripe_customer_shared": (
        "counter",
        "1",
        "Stripe events refused: their customer is linked to several accounts",
    ),
    "pastdue_payments_reversed": ("counter", "1", "collected payments refunded or disputed (attribute kind)"),
    "pastdue_gateway_refused": ("counter", "1", "charge requests the processor refused as invalid (not the card)"),
    "pastdue_gateway_default_not_set": (
        "counter",
        "1",
        "new cards that paid but could not be made the processor's default (renewals may use the old card)",
    ),
    "pastdue_accounts_quarantined": ("counter", "1", "accounts set aside after repeated failures"),
    "pastdue_sweep_duration": ("histogram", "s", "seconds one daily sweep took"),
    "pastdue_sweep_backlog": ("gauge", "1", "due accounts a sweep left for the next run (time budget, deletion cap)"),
    "pastdue_accounts_by_state": ("gauge", "1", "accounts with a subscription in a state (attribute state)"),
    "pastdue_revenue_at_risk": ("gauge", "minor units", "open balance of past-due and disabled accounts (currency)"),
    "pastdue_upcoming_disables": ("gauge", "1", "accounts with a subscription to be disabled within 7 days"),
    "pastdue_upcoming_deletions": ("gauge", "1", "accounts with subscription data to be deleted within 7 days"),
}

current_account: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_account", default=None)


class _WithAccountId:
    """A log record factory that adds `accountId` to what the factory before it makes."""

    adds_account_id = True

    def __init__(self, factory: Callable[..., logging.LogRecord]):
        self._factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._factory(*args, **kwargs)
        record.accountId = current_account.get() or ""
        return record


def tag_logs_with_account() -> None:
    """Every log record carries `accountId`: the account being worked on (services/change.change sets it), which the
    Azure Monitor exporter keeps as a custom dimension."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "adds_account_id", False):
        logging.setLogRecordFactory(_WithAccountId(factory))


class Metrics:
    """The port: what the services emit. This one records nothing."""

    def emit(self, name: str, value: float, **attributes) -> None:
        if name not in METRICS:
            raise ValueError(f"metric {name} is not declared in METRICS")


class OpenTelemetryMetrics(Metrics):
    def __init__(self, meter_provider=None):
        from opentelemetry import metrics

        self._meter = (meter_provider or metrics.get_meter_provider()).get_meter("pastdue")
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()

    def emit(self, name: str, value: float, **attributes) -> None:
        super().emit(name, value)
        kind, unit, description = METRICS[name]
        with self._lock:
            instrument: Any = self._instruments.get(name)
            if instrument is None:
                make = {
                    "counter": self._meter.create_counter,
                    "gauge": self._meter.create_gauge,
                    "histogram": self._meter.create_histogram,
                }[kind]
                instrument = self._instruments[name] = make(name, unit=unit, description=description)
        if kind == "counter":
            instrument.add(value, attributes)
        elif kind == "gauge":
            instrument.set(value, attributes)
        else:
            instrument.record(value, attributes)


_configured: list = []
_lock = threading.Lock()


def setup(connection_string: str | None, client_id: str | None = None, sampling_ratio: float = 1.0) -> Metrics:
    """Once per process: Azure Monitor's OpenTelemetry distro when a connection string is given (logs of the
    `pastdue` loggers, requests, dependencies and these metrics, sent with the app's managed identity:
    Application Insights has local auth off), else metrics that go nowhere. The sampling ratio is always
    passed (TELEMETRY_SAMPLING_RATIO, 1 unless set): what is kept is a choice, not the distro's default."""
    tag_logs_with_account()
    if not connection_string:
        return Metrics()
    with _lock:
        if not _configured:
            from azure.identity import ManagedIdentityCredential
            from azure.monitor.opentelemetry import configure_azure_monitor

            credential = ManagedIdentityCredential(client_id=client_id) if client_id else None
            configure_azure_monitor(
                connection_string=connection_string,
                logger_name=APP_LOGGER,
                credential=credential,
                sampling_ratio=sampling_ratio,
            )
            one_path_for_app_logs()
            _configured.append(True)
    return OpenTelemetryMetrics()


APP_LOGGER = "pastdue"


def one_path_for_app_logs() -> None:
    """The distro exports every `pastdue` record itself (with its accountId). Passed on to the root logger
    too, the Functions worker would hand it to the host, which writes it to Application Insights a second
    time: twice the ingestion, every line counted twice. They stop at the distro's handler; the host still
    logs its own lines (invocations, failures)."""
    logger = logging.getLogger(APP_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
