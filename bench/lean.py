"""The lean probe: the least a transition over HTTP can cost in this stack (the ceiling).

A minimal FastAPI application beside the service, on the same database: uvicorn, 2 workers,
async psycopg connections (a small pool per worker, psycopg's prepared statements), a JWT
check, a pydantic body, then in ONE transaction: the case row loaded together with the caller
(their account active, their login not revoked), the hash-chained event (the service's own
`event_hash`), the compare-and-set UPDATE and the event INSERT of the raw loop, one COMMIT, a
JSON answer serialised once. No ORM, no thread pool, no workflow engine, no visibility rules,
no idempotency: what our own code adds on top of this is the overhead issue 17 measures.

    BENCH_LEAN_DATABASE=postgresql://... BENCH_LEAN_SECRET=... \\
        .venv/bin/python -m uvicorn bench.lean:app --workers 2

`bench/throughput.py` starts it (`lean_server`) and drives it with the service's wrk script.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
import orjson
import psycopg
from fastapi import FastAPI, Header, Response
from psycopg.types.json import Json
from pydantic import BaseModel

from bench.rawloop import PG_INSERT, PG_UPDATE
from bench.server import BIN, Server
from service.audit.integrity.chain import event_hash

POOL_SIZE = 8
LOAD = (
    "SELECT c.version, c.event_count, c.head_hash, c.legal, c.state, u.username, u.ministry, "
    "u.role FROM case_file c JOIN user_account u ON u.id = %(user_id)s AND u.is_active "
    "JOIN auth_session s ON s.id = %(session_id)s AND s.user_id = u.id "
    "AND s.revoked_at IS NULL AND s.expires_at > now() WHERE c.id = %(case_id)s"
)


class TransitionBody(BaseModel):
    trigger: str
    expected_version: int
    payload: dict[str, Any] = {}
    note: str | None = None


@dataclass
class _Refused(Exception):
    status: int
    message: str


class _Pool:
    """A fixed set of connections handed out first come, first served."""

    def __init__(self) -> None:
        self.idle: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def open(self, url: str, size: int) -> None:
        for _ in range(size):
            self.idle.put_nowait(await psycopg.AsyncConnection.connect(url))

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


pool = _Pool()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    await pool.open(os.environ["BENCH_LEAN_DATABASE"], POOL_SIZE)
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/cases/{case_id}/transitions")
async def fire(
    case_id: uuid.UUID, body: TransitionBody, authorization: Annotated[str, Header()] = ""
) -> Response:
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "), os.environ["BENCH_LEAN_SECRET"],
            algorithms=["HS256"], options={"require": ["sub", "exp", "sid"]},
        )  # fmt: skip
        answer = await _transition(case_id, body, int(claims["sub"]), str(claims["sid"]))
    except jwt.PyJWTError:
        answer, status = {"code": "not_authenticated"}, 401
    except _Refused as refused:
        answer, status = {"code": "refused", "message": refused.message}, refused.status
    else:
        status = 200
    return Response(orjson.dumps(answer), status, media_type="application/json")


async def _transition(
    case_id: uuid.UUID, body: TransitionBody, user_id: int, session_id: str
) -> dict[str, Any]:
    connection = await pool.idle.get()
    try:
        async with connection.transaction():
            found = await connection.execute(
                LOAD, {"user_id": user_id, "session_id": session_id, "case_id": case_id}
            )
            row = await found.fetchone()
            if row is None:
                raise _Refused(404, "no such case (or the caller's login has ended)")
            version, count, head, legal, state, username, ministry, role = row
            if version != body.expected_version:
                raise _Refused(409, f"the case is at version {version}; read it again")
            now = datetime.now(UTC)
            fields: dict[str, Any] = {
                "stream": case_id.hex, "stream_seq": count + 1, "prev_hash": head,
                "case_id": case_id, "actor_id": user_id, "actor": username, "actor_role": role,
                "ministry": ministry, "at": now, "kind": "transition", "trigger": body.trigger,
                "from_state": state, "to_state": state, "payload": body.payload,
                "note": body.note,
            }  # fmt: skip
            fields["hash"] = event_hash(fields)
            changed = await connection.execute(PG_UPDATE, {
                "version": version + 1, "event_count": count + 1, "head_hash": fields["hash"],
                "legal": Json({**legal, body.trigger: body.payload}), "updated_at": now,
                "case_file_id": case_id, "case_file_event_count": count,
            })  # fmt: skip
            if changed.rowcount != 1:
                raise _Refused(409, "the case changed meanwhile; read it again")
            await connection.execute(PG_INSERT, {**fields, "payload": Json(body.payload)})
    finally:
        pool.idle.put_nowait(connection)
    return {"id": str(case_id), "version": version + 1, "state": state,
            "event_count": count + 1, "head_hash": fields["hash"]}  # fmt: skip


class LeanServer(Server):
    """The probe under uvicorn, started and stopped like the service (`bench.server.Server`)."""

    @property
    def command(self) -> list[str]:
        return [str(BIN / "python"), "-m", "uvicorn", "bench.lean:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--no-access-log",
                "--log-level", "warning"]  # fmt: skip


def lean_server(libpq: str, secret: str, workers: int, log_path: Any) -> LeanServer:
    env = {**os.environ, "BENCH_LEAN_DATABASE": libpq, "BENCH_LEAN_SECRET": secret}
    return LeanServer(env, workers, log_path)
