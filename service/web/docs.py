"""/docs: Swagger UI from the app's own assets (offices may have no internet; no CDN).

Swagger UI sets styles from script and as attributes, so its page allows inline styles; it
runs no inline script and loads nothing from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.web import assets

router = APIRouter(include_in_schema=False)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NRM case workflow service · API</title>
<link rel="stylesheet" href="{assets.url("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets.url("swagger-ui-bundle.js")}"></script>
<script src="{assets.url("docs.js")}"></script>
</body>
</html>
"""
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})
