"""A small local host that serves function_app.app the way `func start` does (Core Tools can't be
installed here). It reads the function metadata azure-functions generates and changes nothing in the app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import azure.functions as func
from azure.functions.timer import TimerRequest
from croniter import croniter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from devhost.clock_routes import clock_routes, parse_duration
from devhost.problems import problem
from devhost.queues import QueueListener, wait_idle

log = logging.getLogger("devhost")
QUEUED_WORK_SECONDS = 600
PORTAL_DIR = Path(__file__).resolve().parent.parent / "portal"
# Demo users the local sign-in offers (PRINCIPAL_MODE=unverified-local only): the accounts' admins of
# devhost.try_it and devhost.tour, and a support agent.
DEMO_USERS = [
    {"objectId": "00000000-0000-0000-0000-0000000000aa", "name": "Ada (try_it)", "roles": []},
    {"objectId": "00000000-0000-0000-0000-00000000700a", "name": "Ada (tour)", "roles": []},
    {"objectId": "00000000-0000-0000-0000-00000000beef", "name": "Sam (support)", "roles": ["Billing.Support"]},
]
__all__ = ["build_app", "parse_duration"]


class AnyPath(Convertor):
    """Like Starlette's "path", but also across a newline: an id with %0A reaches the function, which
    answers it with a 400, instead of falling through to a plain-text 404."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


class HttpFunction:
    def __init__(self, fn):
        trigger = fn.get_trigger()
        self.name, self.binding, self.call = fn.get_function_name(), trigger.name, fn.get_user_function()
        self.methods = {str(getattr(m, "value", m)).upper() for m in (trigger.methods or ["GET", "POST"])}
        pattern = re.sub(r"\{(\w+)(?::[^}]*)?\}", r"(?P<\1>[^/]+)", (trigger.route or self.name).strip("/"))
        self.pattern = re.compile(pattern, re.DOTALL)


class Job:
    """A non-HTTP function: timers, queues and Event Grid. One run at a time, like the timer singleton (and
    a queue trigger with host.json's batchSize 1)."""

    def __init__(self, fn):
        trigger = fn.get_trigger()
        self.name, self.binding, self.call, self.type = (
            fn.get_function_name(),
            trigger.name,
            fn.get_user_function(),
            trigger.type,
        )
        self.schedule = resolve_setting(getattr(trigger, "schedule", None))
        self.queue_name = resolve_setting(getattr(trigger, "queue_name", None))
        self.connection = getattr(trigger, "connection", None)
        self.run_on_startup = bool(getattr(trigger, "run_on_startup", False))
        self.lock = threading.Lock()

    def run(self, argument) -> float:
        with self.lock:
            started = time.monotonic()
            self.call(**{self.binding: argument})
            return time.monotonic() - started


def resolve_setting(schedule: str | None) -> str | None:
    """%NAME% in a schedule or a queue name reads the app setting NAME, as the Functions host does."""
    if schedule and schedule.startswith("%") and schedule.endswith("%"):
        name = schedule.strip("%")
        value = os.environ.get(name)
        if not value:
            raise RuntimeError(f"a trigger needs the app setting {name}")
        return value
    return schedule


def build_app(function_app: func.FunctionApp, clock, cors_origins: list[str], timers: bool = True) -> Starlette:
    http, jobs = [], {}
    for fn in function_app.get_functions():
        trigger = fn.get_trigger()
        assert trigger is not None, f"{fn.get_function_name()} has no trigger"
        if trigger.type == "httpTrigger":
            http.append(HttpFunction(fn))
        else:
            jobs[fn.get_function_name()] = Job(fn)
    listeners = []
    for job in jobs.values():
        if job.type == "queueTrigger":
            assert job.queue_name is not None, f"queue function {job.name} names no queue"
            connection = os.environ.get(job.connection or "")
            if not connection:
                log.warning("queue function %s not listening: the app setting %s is not set", job.name, job.connection)
                continue
            listeners.append(QueueListener(job, job.queue_name, connection))

    async def serve_http(request: Request) -> Response:
        started = time.perf_counter()
        function, answer = await _route(request)
        _log_request(request, function, answer, time.perf_counter() - started)
        return answer

    async def _route(request: Request) -> tuple[str, Response]:
        path = request.path_params["path"].strip("/")
        matches = [(f, m) for f in http if (m := f.pattern.fullmatch(path))]
        if not matches:
            return "-", problem(404, "Not found", f"no function serves /api/{path}")
        for function, match in matches:
            if request.method in function.methods:
                return function.name, await run_in_threadpool(
                    _call_http, function, request, match.groupdict(), await request.body()
                )
        allowed = sorted(set().union(*(f.methods for f, _ in matches)))
        return "-", problem(
            405, "Method not allowed", f"{request.method} is not allowed here", {"Allow": ", ".join(allowed)}
        )

    async def run_function(request: Request) -> Response:
        job = jobs.get(request.path_params["name"])
        if job is None:
            return problem(404, "Not found", "no such non-HTTP function")
        argument = TimerRequest(past_due=False) if job.type == "timerTrigger" else None
        if job.type in ("eventGridTrigger", "queueTrigger"):
            return problem(400, "Bad request", f"a {job.type} function runs from its events or its queue")
        return await _run_job(job, argument)

    async def eventgrid(request: Request) -> Response:
        job = jobs.get(request.query_params.get("functionName", ""))
        if job is None or job.type != "eventGridTrigger":
            return problem(404, "Not found", "functionName must name an Event Grid function")
        try:
            events = json.loads(await request.body())
        except ValueError:
            return problem(400, "Bad request", "body is not JSON")
        for raw in events if isinstance(events, list) else [events]:
            event = func.EventGridEvent(
                id=raw.get("id", ""),
                data=raw.get("data", {}),
                topic=raw.get("topic", ""),
                subject=raw.get("subject", ""),
                event_type=raw.get("eventType", ""),
                event_time=None,
                data_version=raw.get("dataVersion", ""),
            )
            answer = await _run_job(job, event)
            if answer.status_code != 202:
                return answer
        return Response(status_code=202)

    async def _run_job(job: Job, argument) -> Response:
        try:
            seconds = await run_in_threadpool(job.run, argument)
        except Exception as error:
            log.error("function %s failed:\n%s", job.name, traceback.format_exc())
            return problem(500, "Function failed", f"{job.name} raised {type(error).__name__}")
        # Unlike Azure's admin endpoint, answer once the work the run queued is done (a sweep's shards):
        # scripts and tests read the run's summary from the answer.
        if job.type == "timerTrigger" and not await run_in_threadpool(wait_idle, listeners, QUEUED_WORK_SECONDS):
            return problem(
                504,
                "Queued work not done",
                f"{job.name} ran; its queued work is still going after {QUEUED_WORK_SECONDS} s",
            )
        from pastdue import timer_summaries

        body = {"function": job.name, "status": "completed", "seconds": round(seconds, 3)}
        summary = timer_summaries.latest(job.name)
        if summary is not None:
            body["summary"] = summary
        return JSONResponse(body, status_code=202)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        tasks = [
            asyncio.create_task(_timer_loop(job)) for job in jobs.values() if timers and job.type == "timerTrigger"
        ]
        for listener in listeners:
            listener.start()
        yield
        for listener in listeners:
            listener.stop()
        for task in tasks:
            task.cancel()

    async def http_error(request: Request, error: Exception) -> Response:
        # Every answer of the host, its own 404/405 included, is problem JSON like the app's.
        assert isinstance(error, HTTPException)  # registered for HTTPException only
        return problem(
            error.status_code,
            "Not found" if error.status_code == 404 else "Request refused",
            str(error.detail),
            dict(error.headers or {}) or None,
        )

    async def crashed(request: Request, error: Exception) -> Response:
        log.error("local host failed on %s:\n%s", request.url.path, traceback.format_exc())
        return problem(500, "Internal error", f"the local host raised {type(error).__name__}")

    async def settle(request: Request) -> Response:
        # Notices a request queued are sent right after its answer, off the request path (bootstrap):
        # this waits for them, so a script or a test reads the inbox after they went out.
        from pastdue import bootstrap

        await run_in_threadpool(bootstrap.settle)
        return JSONResponse({"status": "settled"})

    routes = [
        *portal_routes(),
        Route("/api/{path:anypath}", serve_http, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/admin/functions/{name}", run_function, methods=["POST"]),
        Route("/admin/settle", settle, methods=["POST"]),
        Route("/runtime/webhooks/eventgrid", eventgrid, methods=["POST"]),
        *clock_routes(clock),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["*"],
        )
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: crashed},
    )


def portal_routes() -> list[Route]:
    """The reference portal's static files under /portal/ (portal/ in the repository). A path that names no
    file is one of the portal's own pages (a notice's link, /portal/billing/<account>/pay): index.html,
    whose script reads the path. /portal/config.json tells the portal how to sign in."""

    async def config(request: Request) -> Response:
        local = os.environ.get("PRINCIPAL_MODE") == "unverified-local"
        body = {
            "signIn": "local" if local else "appservice",
            "demoUsers": DEMO_USERS if local else [],
            "apiBase": "/api",
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def files(request: Request) -> Response:
        name = request.path_params["path"]
        target = (PORTAL_DIR / name).resolve()
        if not target.is_relative_to(PORTAL_DIR):
            return problem(404, "Not found", "no such portal file")
        if target.is_file():
            return FileResponse(target, headers={"Cache-Control": "no-cache"})
        if "." in name.rsplit("/", 1)[-1]:
            return problem(404, "Not found", f"no portal file {name}")
        return FileResponse(PORTAL_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def home(request: Request) -> Response:
        return RedirectResponse("/portal/", status_code=308)

    return [
        Route("/portal", home, methods=["GET"]),
        Route("/portal/config.json", config, methods=["GET"]),
        Route("/portal/{path:path}", files, methods=["GET", "HEAD"]),
    ]


requests_log = logging.getLogger("devhost.requests")


def _log_request(request: Request, function: str, answer: Response, seconds: float) -> None:
    """One line per API call: method, path, status, time, function, the caller's X-Request-Id if it sent one
    (a test finds its own requests' lines by it), and why a 4xx/5xx was refused."""
    line = f"{request.method} {request.url.path} -> {answer.status_code} {seconds * 1000:.0f} ms [{function}]"
    request_id = request.headers.get("x-request-id")
    if request_id:
        line += f" id={''.join(c for c in request_id[:64] if c.isalnum() or c in '-_.')}"
    if answer.status_code >= 400:
        with contextlib.suppress(ValueError, AttributeError):
            line += f" {json.loads(bytes(answer.body)).get('detail', '')}"
    requests_log.info(line)


def _call_http(function: HttpFunction, request: Request, route_params: dict, body: bytes) -> Response:
    # The URL as sent (path still percent-encoded), as the Functions host hands it to the app.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = f"{request.url.scheme}://{request.url.netloc}{raw_path.decode('latin-1')}"
    url += f"?{query.decode('latin-1')}" if query else ""
    headers = dict(request.headers)
    if os.environ.get("PRINCIPAL_MODE") == "appservice":
        # As App Service Authentication does: a principal header sent by the client never reaches the app
        # (no sign-in is emulated here, so portal routes answer 401 in this mode).
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-ms-client-principal")}
    req = func.HttpRequest(
        request.method, url, headers=headers, params=dict(request.query_params), route_params=route_params, body=body
    )
    try:
        answer = function.call(**{function.binding: req})
    except Exception as error:
        log.error("function %s failed:\n%s", function.name, traceback.format_exc())
        return problem(500, "Internal error", f"{function.name} raised {type(error).__name__}")
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(
        answer.get_body(), status_code=answer.status_code, headers=headers, media_type=answer.mimetype or "text/plain"
    )


async def _timer_loop(job: Job) -> None:
    if job.run_on_startup:
        await run_in_threadpool(_safe_run, job)
    schedule = croniter(job.schedule, datetime.now(UTC), second_at_beginning=True)
    while True:
        due = schedule.get_next(datetime)
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        if job.lock.locked():
            continue  # the previous run is still going: skip, as the Functions host does
        await run_in_threadpool(_safe_run, job)


def _safe_run(job: Job) -> None:
    try:
        job.run(TimerRequest(past_due=False))
    except Exception:
        log.error("timer %s failed:\n%s", job.name, traceback.format_exc())
