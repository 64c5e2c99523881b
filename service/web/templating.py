"""Jinja2 templates and the HTML response every page answers with.

A feature's templates live in `<feature>/templates/`; the layout, macros and error page in
`web/templates/`, found after the feature's own. Pages hold case data: never cached, and
gzipped here when the browser accepts it (a queue page is ~30 KB of HTML, ~5 KB gzipped).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from service.web import assets

WEB_TEMPLATES = Path(__file__).parent / "templates"
_GZIP_FROM = 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class Templates:
    def __init__(self, directory: Path | None = None) -> None:
        loaders = [FileSystemLoader(directory)] if directory else []
        self.env = Environment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(WEB_TEMPLATES)]),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["asset"] = assets.url

    def html(self, name: str, values: dict[str, Any], block: str | None = None) -> str:
        template = self.env.get_template(name)
        if block is None:
            return template.render(values)
        context = template.new_context(values)
        return "".join(template.blocks[block](context))


def html_response(
    request: Request, text: str, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = text.encode()
    all_headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "no-store",
        "Vary": "Accept-Encoding, HX-Request",
        **(headers or {}),
    }
    if len(body) >= _GZIP_FROM and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, 6)
        all_headers["Content-Encoding"] = "gzip"
    return Response(body, status_code, headers=all_headers, media_type="text/html; charset=utf-8")
