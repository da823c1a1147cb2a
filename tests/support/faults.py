"""Fault injection for the real azure-cosmos SDK, the gateway and the e-mail sender."""

from __future__ import annotations

import random
import threading
from collections import Counter

import requests
from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport, RequestsTransportResponse
from requests.structures import CaseInsensitiveDict

from pastdue.adapters.email import SendFailed, Throttled
from pastdue.adapters.gateway import ChargeOutcome, OutcomeUnknown, PaymentGateway
from pastdue.adapters.memory import MemorySender
from pastdue.domain.money import Money
from pastdue.notices.message import Email


class Crash(BaseException):
    """The process dies here: not an Exception, so nothing in the app catches it."""


class FaultyTransport(RequestsTransport):
    """Answers a share of requests with 429 (Retry-After), 412, 503 or 408, or drops the connection
    before or after the server saw the request."""

    FAULTS = ("429", "503", "408", "412", "drop-before", "drop-after")

    def __init__(self, rate: float, seed: int = 7, faults=FAULTS, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.random, self.faults = rate, random.Random(seed), faults
        self.injected: Counter = Counter()
        self.lock = threading.Lock()

    def send(self, request, **kwargs):
        # 412 only makes sense for a conditional write; account creation stays clean so tests can start.
        applicable = [f for f in self.faults if f != "412" or request.headers.get("If-Match")]
        with self.lock:
            fault = None
            if applicable and self.random.random() < self.rate:
                # The kind injected least so far (ties broken at random): every kind is met, however few
                # requests a run makes, and the same seed gives the same faults.
                fault = min(applicable, key=lambda f: (self.injected[f], self.random.random()))
                self.injected[fault] += 1
        if fault is None:
            return super().send(request, **kwargs)
        if fault == "drop-before":
            raise ServiceResponseError("injected: connection dropped before the request was sent")
        if fault == "drop-after":
            super().send(request, **kwargs)  # the server applied it; the answer is lost
            raise ServiceResponseError("injected: connection dropped after the request was sent")
        return self._fake(request, int(fault))

    @staticmethod
    def _fake(request, status: int):
        fake = requests.Response()
        fake.status_code, fake.url = status, request.url
        fake.headers = CaseInsensitiveDict(
            {
                "Content-Type": "application/json",
                "x-ms-retry-after-ms": "5",
                "x-ms-activity-id": "injected",
                "x-ms-substatus": "0",
            }
        )
        fake._content = b'{"code": "Injected", "message": "injected fault"}'
        return RequestsTransportResponse(request, fake)


class CrashingTransport(RequestsTransport):
    """The process dies at the n-th write (a POST or PUT that is not a query): before it is sent, or
    after the server applied it but before its answer came back."""

    def __init__(self, at: int, after: bool, **kwargs):
        super().__init__(**kwargs)
        self.at, self.after, self.writes = at, after, 0

    def send(self, request, **kwargs):
        query = request.headers.get(
            "x-ms-documentdb-isquery"
        ) == "True" or "application/query+json" in request.headers.get("Content-Type", "")
        if request.method in ("POST", "PUT") and not query and "/docs" in request.url:
            self.writes += 1
            if self.writes == self.at:
                if self.after:
                    super().send(request, **kwargs)
                raise Crash(f"killed at write {self.at} ({'after' if self.after else 'before'} it was sent)")
        return super().send(request, **kwargs)


class FlakyGateway(PaymentGateway):
    """Times out or errors on a share of calls (after or before the real charge)."""

    def __init__(self, inner: PaymentGateway, rate: float, seed: int = 11):
        self.inner, self.rate, self.random = inner, rate, random.Random(seed)
        self.lock = threading.Lock()

    def describe(self, token):
        return self.inner.describe(token)

    def charge(
        self,
        token: str,
        amount: Money,
        idempotency_key: str,
        customer: str | None = None,
        metadata: dict | None = None,
        reference: str | None = None,
        resume: bool = False,
        on_session: bool = False,
    ) -> ChargeOutcome:
        with self.lock:
            roll = self.random.random()
        if roll < self.rate / 2:
            raise OutcomeUnknown("injected timeout before the processor saw it")
        outcome = self.inner.charge(token, amount, idempotency_key, customer, metadata, reference, resume, on_session)
        if roll < self.rate:
            raise OutcomeUnknown("injected timeout after the processor charged")
        return outcome


class CrashingGateway(PaymentGateway):
    """Dies on call number `at` (1-based), before or after doing the real charge."""

    def __init__(self, inner: PaymentGateway, at: int, after: bool):
        self.inner, self.at, self.after, self.calls = inner, at, after, 0
        self.lock = threading.Lock()  # charges of one account are made in parallel

    def describe(self, token):
        return self.inner.describe(token)

    def charge(
        self,
        token: str,
        amount: Money,
        idempotency_key: str,
        customer: str | None = None,
        metadata: dict | None = None,
        reference: str | None = None,
        resume: bool = False,
        on_session: bool = False,
    ) -> ChargeOutcome:
        with self.lock:
            self.calls += 1
            call = self.calls
        if call == self.at and not self.after:
            raise Crash(f"killed before charge call {self.at}")
        outcome = self.inner.charge(token, amount, idempotency_key, customer, metadata, reference, resume, on_session)
        if call == self.at:
            raise Crash(f"killed after charge call {self.at}")
        return outcome


class FlakySender(MemorySender):
    """The in-memory sender, failing or throttling a share of sends; `delivered` counts what was really
    delivered, by operation id."""

    def __init__(self, rate: float, seed: int = 13):
        super().__init__()
        self.rate, self.random = rate, random.Random(seed)
        self.lock = threading.Lock()

    def send(self, email: Email) -> None:
        with self.lock:
            roll = self.random.random()
        if roll < self.rate / 2:
            raise SendFailed("injected: smtp 451")
        if roll < self.rate:
            raise Throttled(30)
        super().send(email)

    @property
    def delivered(self) -> Counter[str]:
        return Counter(email.operation_id for email in self.sent)
