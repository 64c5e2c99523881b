"""Static assets, served by the application itself (no CDN: many offices have filtered or no
internet), from memory, each under a URL that names its content's digest so that browsers may
keep it for a year, and gzipped once at start when the browser accepts it. Swagger UI's two
files for /docs come from the `swagger-ui-py` package (no download at run time)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

STATIC = Path(__file__).parent / "static"
SWAGGER_UI = ("swagger-ui-bundle.js", "swagger-ui.css")
router = APIRouter(include_in_schema=False)
_YEAR = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    version: str


@cache
def assets() -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for name, body in _files():
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        found[name] = Asset(
            body, gzip.compress(body, 9, mtime=0), media_type, hashlib.sha256(body).hexdigest()[:12]
        )
    return found


def _files() -> Iterator[tuple[str, bytes]]:
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            yield path.name, path.read_bytes()
    swagger = importlib.resources.files("swagger_ui") / "static"
    for name in SWAGGER_UI:
        yield name, (swagger / name).read_bytes()


def url(name: str) -> str:
    return f"/static/{assets()[name].version}/{name}"


@router.get("/static/{version}/{name}")
async def static_asset(version: str, name: str, request: Request) -> Response:
    asset = assets().get(name)
    if asset is None:
        return Response(status_code=404)
    # an old version (a page from before a deploy) gets today's file, not kept for long
    cache = _YEAR if version == asset.version else "no-cache"
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding", "ETag": f'"{asset.version}"'}
    if request.headers.get("if-none-match") == f'"{asset.version}"':
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
