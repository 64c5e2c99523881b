"""A request id on every answer, and the last resort: an error nothing else handled is a JSON
500 naming that id, never a plain-text page.

The id is the caller's `X-Request-ID` when it is well-formed (a proxy's, to follow one request
across systems), else a fresh one; every answer carries it back in `X-Request-ID`, and a 500's
body names it, so that an operator can find the one log line that goes with a complaint.
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.kit.logs import REQUEST_ID
from service.kit.metrics import count_error

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
log = logging.getLogger("nrm")


def request_id_of(scope: Scope) -> str:
    """The id `RequestIdMiddleware` gave this request ("" outside one)."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(HEADER, "")
        request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)  # every log line of this request names it
        try:
            await self._answer(scope, receive, send, request_id)
        finally:
            REQUEST_ID.reset(token)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # the type, the route and the frames: an exception's text may quote SQL parameters
            log.error(
                "unhandled %s on %s %s [request %s]\n%s",
                type(exc).__name__,
                scope.get("method"),
                _route_of(scope),
                request_id,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if started:
                raise
            count_error(500, "internal_error")
            answer = JSONResponse(
                {
                    "detail": "an internal error; quote the request id when reporting it",
                    "code": "internal_error",
                    "request_id": request_id,
                },
                status_code=500,
                headers={HEADER: request_id},
            )
            await answer(scope, receive, send)


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "(no route)"))
