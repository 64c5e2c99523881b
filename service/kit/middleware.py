"""ASGI middleware every answer passes through: the security headers, and the request body limit.

Pure ASGI (no BaseHTTPMiddleware): neither buffers a body, and a streamed export streams on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_TOO_LARGE = "body_too_large"
# Set where an answer sets none of its own: the pages set a CSP for HTML, the assets their caching.
DEFAULT_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    # a JSON answer runs nothing and embeds nothing
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    # answers carry identities and who-did-what: no shared or browser cache keeps them
    (b"cache-control", b"no-store"),
)


class SecurityHeaders:
    """Adds each of DEFAULT_HEADERS that the answer does not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in DEFAULT_HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """413 `body_too_large` for a request body over `max_bytes`: at once when Content-Length
    says so, and while reading when the body comes in chunks without one (the route then sees
    an HTTPException from `receive`, which FastAPI lets through to the error handler)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, _detail(self.max_bytes))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _detail(max_bytes: int) -> str:
    return f"the request body is larger than {max_bytes} bytes"


async def _refuse(send: Send, max_bytes: int) -> None:
    body = json.dumps({"detail": _detail(max_bytes), "code": BODY_TOO_LARGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
