"""The local host's own answers (unknown route, failed function, bad clock request) as problem JSON."""

from starlette.responses import JSONResponse


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )
