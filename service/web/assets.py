"""Static assets, served by the application itself (no CDN: many offices have filtered or no
internet), from memory, each under a URL that names its content's digest so that browsers may
keep it for a year, and gzipped once at start when the browser accepts it."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

STATIC = Path(__file__).parent / "static"
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
    for path in sorted(STATIC.iterdir()):
        if not path.is_file():
            continue
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith("javascript"):
            media_type += "; charset=utf-8"
        found[path.name] = Asset(
            body, gzip.compress(body, 9, mtime=0), media_type, hashlib.sha256(body).hexdigest()[:12]
        )
    return found


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
