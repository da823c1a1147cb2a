"""The local host itself, serving a small app of its own over real HTTP."""

from __future__ import annotations

import threading
import time

import azure.functions as func
import httpx
import pytest
import uvicorn

from devhost.host import build_app
from pastdue.adapters.clock import AdjustableClock
from tests.support.stack import free_port

probe = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
barrier = threading.Barrier(3, timeout=20)
runs: list[str] = []


@probe.route(route="items/{itemId}", methods=["GET", "DELETE"])
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(f"{req.method} {req.route_params['itemId']} {req.params.get('q', '')}")


@probe.route(route="boom", methods=["POST"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("kaboom")


@probe.route(route="together", methods=["GET"])
def together(req: func.HttpRequest) -> func.HttpResponse:
    barrier.wait()  # only passes when three requests are being served at the same time
    return func.HttpResponse("ok")


@probe.timer_trigger(arg_name="timer", schedule="0 0 3 * * *", run_on_startup=False)
def nightly(timer: func.TimerRequest) -> None:
    runs.append("nightly")


@pytest.fixture(scope="module")
def base():
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(probe, AdjustableClock(), ["http://localhost:5173"]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_routes_methods_and_params(base):
    assert httpx.get(f"{base}/api/items/42?q=x").text == "GET 42 x"
    assert httpx.delete(f"{base}/api/items/7").text == "DELETE 7 "
    wrong = httpx.post(f"{base}/api/items/7")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, GET"
    missing = httpx.get(f"{base}/api/nothing")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_an_exception_becomes_a_problem_500_without_a_trace(base):
    answer = httpx.post(f"{base}/api/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500 and "Traceback" not in answer.text and "kaboom" not in answer.text


def test_requests_are_served_side_by_side(base):
    with httpx.Client(timeout=30) as client:
        threads = [
            threading.Thread(target=lambda: results.append(client.get(f"{base}/api/together").status_code))
            for _ in range(3)
        ]
        results: list[int] = []
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [200, 200, 200]


def test_a_timer_runs_on_demand_and_answers_when_done(base):
    before = len(runs)
    answer = httpx.post(f"{base}/admin/functions/nightly")
    assert answer.status_code == 202 and len(runs) == before + 1
    assert httpx.post(f"{base}/admin/functions/nope").status_code == 404


def test_the_test_clock_moves_and_rejects_nonsense(base):
    start = httpx.get(f"{base}/admin/clock").json()["now"]
    moved = httpx.post(f"{base}/admin/clock", json={"advance": "P30D"}).json()["now"]
    assert moved[:10] > start[:10]
    assert httpx.post(f"{base}/admin/clock", json={"set": "2030-01-01T00:00:00Z"}).json()["now"].startswith("2030")
    assert httpx.post(f"{base}/admin/clock", json={"advance": "30 days"}).status_code == 400


def test_cors_preflight_for_listed_origins_only(base):
    headers = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT"}
    allowed = httpx.options(f"{base}/api/items/1", headers=headers)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    denied = httpx.options(f"{base}/api/items/1", headers={**headers, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_a_port_already_taken_is_named(base):
    from devhost.standins import PortTaken, StandIns

    taken = int(base.rsplit(":", 1)[1])
    with pytest.raises(PortTaken, match=f"port {taken} for the Cosmos stand-in"):
        StandIns(cosmos_port=taken).start(__import__("pathlib").Path("/tmp"))


def test_timers_run_on_their_ncrontab_schedule_and_on_startup_when_asked():
    ticking = func.FunctionApp()
    ran: list[str] = []

    @ticking.timer_trigger(arg_name="timer", schedule="*/1 * * * * *", run_on_startup=True)
    def every_second(timer: func.TimerRequest) -> None:
        ran.append("tick")

    @ticking.timer_trigger(arg_name="timer", schedule="0 0 2 1 1 *", run_on_startup=False)
    def once_a_year(timer: func.TimerRequest) -> None:
        ran.append("yearly")

    server = uvicorn.Server(
        uvicorn.Config(
            build_app(ticking, AdjustableClock(), []), host="127.0.0.1", port=free_port(), log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while ran.count("tick") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    server.should_exit = True
    thread.join(10)
    assert ran.count("tick") >= 3 and "yearly" not in ran
