"""Shared plumbing of the web pages; it knows no feature.

Jinja2 templates, the message catalogues and WIB dates (i18n), the browser session with its
CSRF token (session), the static assets, and the error pages. Each feature keeps its own pages
in `<feature>/pages.py` and its templates in `<feature>/templates/`.
"""
