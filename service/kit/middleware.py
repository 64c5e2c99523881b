"""ASGI middleware every request passes through: the security headers, and the request guard
(body size, UTF-8, no NUL character).

Pure ASGI (no BaseHTTPMiddleware): neither buffers a body, and a streamed export streams on.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
AsPage = Callable[[Scope, int], ASGIApp | None]  # the error page for this request, if it wants one

BODY_TOO_LARGE = "body_too_large"
_NUL = "text may not contain the NUL character"
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


class RequestRefused(HTTPException):
    """A request refused before any route reads it, with its own `code`."""

    def __init__(self, status_code: int, detail: Any, code: str) -> None:
        super().__init__(status_code, detail)
        self.code = code


class RequestGuard:
    """What no route should have to think about, refused once for all of them:

    - a body over `max_bytes`: 413 `body_too_large`, at once when Content-Length says so, and
      while reading when the body comes in chunks without one; a path matching one of
      `larger` has that limit instead (an arrival's manifest upload);
    - a body that is not UTF-8 (every body but multipart): 400 `body_not_utf8`;
    - the NUL character in the query string or a form field (PostgreSQL stores no NUL in
      text): 422 `validation_error` naming the parameter, as FastAPI names fields (JSON bodies
      are checked by the request models: `schemas.common.StrictModel`); in the path: 404.

    A form body is read whole (it is small, and bounded by `max_bytes`) to name the field; any
    other body streams through, checked chunk by chunk. A refusal while the route reads is an
    HTTPException from `receive`, which FastAPI hands to the app's error handler unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        as_page: AsPage | None = None,
        larger: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.as_page = as_page
        # (path pattern, its own limit): uploads (a manifest) that may be larger than a body
        self.larger = tuple((re.compile(pattern), limit) for pattern, limit in larger)

    def limit_for(self, path: str) -> int:
        return next((n for pattern, n in self.larger if pattern.fullmatch(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        refusal = self._refuse_at_once(scope, limit)
        if refusal is not None:
            await self._answer(scope, receive, send, refusal)
            return
        content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
        if content_type == "application/x-www-form-urlencoded":
            try:
                body = await self._whole(receive)
                _check_fields("body", body.decode("utf-8"))
            except RequestRefused as exc:
                await self._answer(scope, receive, send, exc)
                return
            except UnicodeDecodeError:
                await self._answer(scope, receive, send, _not_utf8())
                return
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, self._checked(receive, content_type, limit), send)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, refusal: RequestRefused
    ) -> None:
        """A page for a browser asking for one (the app says how), else `{detail, code}`."""
        page = self.as_page(scope, refusal.status_code) if self.as_page else None
        if page is not None:
            await page(scope, receive, send)
            return
        await _answer(send, refusal)

    def _refuse_at_once(self, scope: Scope, limit: int) -> RequestRefused | None:
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        if "\x00" in scope.get("path", ""):
            return RequestRefused(404, "not found", "not_found")
        try:
            _check_fields("query", scope.get("query_string", b"").decode("utf-8"))
        except UnicodeDecodeError:
            return RequestRefused(400, "the query string is not UTF-8", "query_not_utf8")
        except RequestRefused as exc:
            return exc
        return None

    async def _whole(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _too_large(self.max_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _checked(self, receive: Receive, content_type: str, limit: int) -> Receive:
        received = 0
        decoder = None if content_type.startswith("multipart/") else _utf8()

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                if decoder is not None:
                    try:
                        decoder.decode(chunk, final=not message.get("more_body", False))
                    except UnicodeDecodeError:
                        raise _not_utf8() from None
            return message

        return counted


def _utf8() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")()


def _check_fields(where: str, encoded: str) -> None:
    """422 naming each parameter whose name or value holds NUL (raw or as %00)."""
    bad = [
        {"loc": [where, name.replace("\x00", "\\0")], "msg": _NUL, "type": "nul_character"}
        for name, value in parse_qsl(encoded, keep_blank_values=True)
        if "\x00" in name or "\x00" in value
    ]
    if bad:
        raise RequestRefused(422, bad, "validation_error")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the disconnect, when it comes

    return replay


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _too_large(max_bytes: int) -> RequestRefused:
    return RequestRefused(413, f"the request body is larger than {max_bytes} bytes", BODY_TOO_LARGE)


def _not_utf8() -> RequestRefused:
    return RequestRefused(400, "the request body is not UTF-8", "body_not_utf8")


async def _answer(send: Send, refusal: RequestRefused) -> None:
    body = json.dumps({"detail": refusal.detail, "code": refusal.code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
