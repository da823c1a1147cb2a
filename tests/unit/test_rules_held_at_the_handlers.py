"""Rules held where the function handlers meet the use cases, run in-process on the in-memory repository
(bootstrap's settings and adapters replaced for the test): the write-off's documented default, the support
list's cursor refused before the store, and a sweep shard on the queue's last try."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage

from pastdue import bootstrap, timer_summaries
from pastdue.adapters.memory import MemoryAccounts, MemorySweepRuns
from pastdue.adapters.shard_queue import task_message
from pastdue.adapters.store import AccountFilter
from pastdue.domain.model import Account
from pastdue.domain.shards import plan
from pastdue.http.principal import encode_principal
from pastdue.services.sweep import ShardGaveUp
from pastdue.settings import load_settings
from tests.support.indexed import functions
from tests.unit.builders import T0
from tests.unit.test_settings import GOOD
from tests.unit.test_use_cases_in_memory import opened, world

SETTINGS = GOOD  # settings as Azure has them (tests/unit/test_settings.py)
SUPPORT = {"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-support", ("Billing.Support",))}


def handler(name: str):
    return next(f for f in functions() if f.get_function_name() == name).get_user_function()


@pytest.fixture()
def app(monkeypatch):
    """The app's handlers on the in-memory repository: what bootstrap would build, replaced."""
    deps, store, ledger = world()
    settings = load_settings(SETTINGS)
    monkeypatch.setattr(bootstrap, "settings", lambda: settings)
    monkeypatch.setattr(bootstrap, "deps", lambda: deps)
    return deps, store


# --- 6. a write-off without notifyAdmin tells the admin ----------------------------------------------------


def _write_off(body: dict) -> func.HttpResponse:
    request = func.HttpRequest(
        "POST",
        "https://func.example/api/support/accounts/acct-1/charges/ch-0/write-off",
        headers={**SUPPORT, "Content-Type": "application/json"},
        route_params={"accountId": "acct-1", "chargeId": "ch-0"},
        body=json.dumps(body).encode(),
    )
    return handler("support_write_off")(request)


@pytest.mark.parametrize(
    "body, told",
    [({"reason": "goodwill"}, True), ({"reason": "goodwill", "notifyAdmin": False}, False)],
)
def test_a_write_off_tells_the_admin_unless_asked_not_to(app, body, told):
    deps, store = app
    opened(deps, store)
    answer = _write_off(body)
    assert answer.status_code == 200, answer.get_body()
    after = store.get("acct-1")
    assert after is not None and after.charge_of("ch-0").status == "writtenOff"
    assert ("charge_written_off" in [n.kind for n in after.outbox]) is told


# --- 15. a support-list cursor that is no continuation of the store's --------------------------------------


class Listing(MemoryAccounts):
    """The in-memory store, recording the cursor of each `find` the support list asks: a Cosmos continuation
    token is no cursor of the in-memory store's, so it answers an empty last page."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str | None] = []

    def find(self, where: AccountFilter, limit: int, cursor: str | None = None) -> tuple[list[Account], str | None]:
        self.asked.append(cursor)
        return [], None


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _list(cursor: str) -> func.HttpResponse:
    request = func.HttpRequest(
        "GET",
        "https://func.example/api/support/accounts",
        headers=SUPPORT,
        params={"cursor": cursor},
        body=b"",
    )
    return handler("support_accounts")(request)


@pytest.mark.parametrize("value", ["a string", 42, 1.5, True, None, {}, []])
def test_a_cursor_that_decodes_to_no_continuation_is_a_400_on_cursor_and_never_reaches_the_store(app, value):
    deps, _ = app
    listing = Listing()
    deps.store = listing
    answer = _list(_cursor(value))
    assert answer.status_code == 400, answer.get_body()
    assert json.loads(answer.get_body())["field"] == "cursor"
    assert listing.asked == []
    # What the store gives (an object, or an array) is passed on as it came.
    continuation = _cursor({"token": "+RID:~abc", "range": {"min": "", "max": "FF"}})
    assert _list(continuation).status_code == 200 and listing.asked == [continuation]


# --- 12. a sweep shard on the queue's last try closes its run ----------------------------------------------


class Broken(RuntimeError):
    pass


def test_a_shard_failing_on_the_queues_last_try_records_its_failure_and_closes_the_run(app, monkeypatch):
    deps, store = app
    opened(deps, store)

    def due(*args, **kwargs):
        raise Broken("the shard's query cannot run")

    monkeypatch.setattr(store, "due", due)
    records = MemorySweepRuns()
    monkeypatch.setattr(bootstrap, "sweep_runs", lambda: records)
    monkeypatch.setattr(bootstrap, "drain_all", lambda: {"sent": 0})
    (task,) = plan(T0, 1)
    records.open(task.run_id, 1, T0, 10)
    tries = bootstrap.queue_tries()  # host.json's maxDequeueCount
    shard = handler("sweep_shard")

    # What the Python worker hands the function: its own QueueMessage, with the queue's count of tries.
    def message(dequeue_count: int) -> QueueMessage:
        return QueueMessage(id="m-1", body=task_message(task).encode(), dequeue_count=dequeue_count)

    for dequeue_count in range(1, tries):  # the queue hands the message out again: nothing recorded yet
        with pytest.raises(Broken):
            shard(message(dequeue_count))
        assert not records.finished(task.run_id, task.shard), dequeue_count
    with pytest.raises(ShardGaveUp):  # the last try: to the poison queue, recorded first
        shard(message(tries))
    run = records.runs[task.run_id]
    assert run["closedAt"] and "Broken" in run["failed"]["0"] and run["done"] == {}
    summary = timer_summaries.latest("daily_sweep")
    assert summary is not None and summary["runId"] == task.run_id and summary["shardsFailed"] == 1
