"""Structured logs: one JSON object per line on standard error, with the request id.

No log line may carry a victim's identity. The service's own messages name routes as templates
and cases by id only; as a safety net, an exception is logged as its type and frames, never
its message (a database error's message quotes the statement's parameters), and uvicorn's own
access line (the raw path and query) is replaced by `nrm.access` (service/kit/metrics.py).
"""

from __future__ import annotations

import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID: ContextVar[str] = ContextVar("nrm_request_id", default="")
# what a LogRecord always has: everything else on a record came through `extra=`
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class RequestIdFilter(logging.Filter):
    """Stamps each record with the request it was logged for, in the context that logged it
    (a handler formats later, or elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if not entry.get("request_id"):
            entry.pop("request_id", None)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = type(error).__name__
            entry["frames"] = "".join(traceback.format_tb(error.__traceback__))
        return orjson.dumps(entry, default=str).decode()


def logging_config(access_log: bool) -> dict[str, Any]:
    """For uvicorn's `log_config` (each worker applies it): everything through one JSON
    handler; `nrm.access` at INFO only when the access log is wanted."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"request_id": {"()": RequestIdFilter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "nrm.access": {"level": "INFO" if access_log else "WARNING"},
        },
    }
