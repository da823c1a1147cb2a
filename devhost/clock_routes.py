"""GET/POST /admin/clock: the test clock the functions' injected clock reads (business time only)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devhost.problems import problem

DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str) -> timedelta:
    match = DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        raise ValueError("advance must be an ISO 8601 duration such as P30D or PT6H")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _now(clock) -> dict:
    return {"now": clock.now().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}


def clock_routes(clock) -> list[Route]:
    async def get(request: Request) -> JSONResponse:
        return JSONResponse(_now(clock))

    async def post(request: Request) -> JSONResponse:
        # Business time only jumps once the notices already on their way are sent: a send in flight
        # across a jump of days would see its lease expire and the notice go out twice.
        from starlette.concurrency import run_in_threadpool

        from pastdue import bootstrap

        await run_in_threadpool(bootstrap.settle)
        try:
            body = json.loads(await request.body())
            if "advance" in body:
                clock.advance(parse_duration(body["advance"]))
            elif "set" in body:
                when = datetime.fromisoformat(body["set"].replace("Z", "+00:00"))
                if when.tzinfo is None:
                    raise ValueError("set needs a time with a zone")
                clock.set(when)
            else:
                raise ValueError('give {"advance": "P30D"} or {"set": "<RFC 3339>"}')
        except (ValueError, TypeError, AttributeError) as error:
            return problem(400, "Bad request", str(error))
        return JSONResponse(_now(clock))

    return [Route("/admin/clock", get, methods=["GET"]), Route("/admin/clock", post, methods=["POST"])]
