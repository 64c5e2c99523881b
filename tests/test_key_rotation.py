"""Rotating the data key while the service runs: workers that know both keys read every case
throughout; `nrm keys rotate-data-key` seals everything again under the new key, after which
the old key can go. And the signing key: old checkpoints stay verifiable."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.audit import checkpoints
from service.audit import service as audit
from service.audit.integrity import signing
from service.audit.log import append_stream_event
from service.bootstrap import bootstrap
from service.cases import repository
from service.cases.rekey import rotate_data_key
from service.kit import migrate
from service.kit.config import generate_keys, settings_for
from service.kit.context import AppContext
from service.kit.db import Database, create_db_engine
from service.kit.principal import SYSTEM
from service.models import Victim, utcnow
from tests.conftest import fresh_database
from tests.factories import Actors, fire, intake_body

OLD = generate_keys()
NEW_DATA_KEY = generate_keys()["data_key"]


MakeContext = Callable[..., AppContext]


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[MakeContext]:
    """Contexts on one database, each with its own data key and read-only keys."""
    made: list[AppContext] = []
    with fresh_database(tmp_path) as url:
        migrate.upgrade(url)

        def make(data_key: str, read_only: str = "") -> AppContext:
            keys = {**OLD, "data_key": data_key}
            settings = settings_for(url, keys, data_keys_read_only=read_only)
            limits = settings.database_limits
            made.append(bootstrap(settings, Database(create_db_engine(url, limits), limits=limits)))
            return made[-1]

        yield make
        for context in made:
            context.database.engine.dispose()


def _identity(context: AppContext, case_id: str, actors: Actors) -> tuple[object, list[object]]:
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        answer = client.get(f"/api/v1/cases/{case_id}", headers=actors.worker("KEMLU").headers)
        history = client.get(
            f"/api/v1/cases/{case_id}/history", headers=actors.worker("KEMLU").headers
        )
    assert answer.status_code == 200 and history.status_code == 200
    notes = [event.get("note") for event in history.json()["items"]]
    return answer.json()["victim"].get("full_name"), notes


def test_rotation_reseals_identities_and_case_keys_and_the_old_key_can_go(
    keyed: MakeContext,
) -> None:
    old = keyed(OLD["data_key"])
    with TestClient(create_app(old), raise_server_exceptions=False) as client:
        actors = Actors(client, old)
        kemlu = actors.worker("KEMLU").headers
        case = client.post("/api/v1/cases", json=intake_body(), headers=kemlu).json()
        moved = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {},
                     note="met at the shelter")  # fmt: skip
        assert moved.status_code == 200
    before = _identity(old, case["id"], actors)
    assert before[0] == "Siti Rahayu" and "met at the shelter" in before[1]

    # step 1 (every worker can open the new key's rows), step 2 (the new key seals)
    assert _identity(keyed(OLD["data_key"], NEW_DATA_KEY), case["id"], actors)
    rotating = keyed(NEW_DATA_KEY, OLD["data_key"])
    assert _identity(rotating, case["id"], actors) == before
    # step 3: everything sealed again under the new key; a second run has nothing to do
    first = rotate_data_key(rotating, batch=1)
    assert first.resealed >= 1 and first.changed == 0
    assert rotate_data_key(rotating).resealed == 0
    # step 4: the old key is gone
    assert _identity(keyed(NEW_DATA_KEY), case["id"], actors) == before


def test_rotation_never_undoes_a_change_made_meanwhile(keyed: MakeContext) -> None:
    rotating = keyed(NEW_DATA_KEY, OLD["data_key"])
    old = keyed(OLD["data_key"])
    with TestClient(create_app(old), raise_server_exceptions=False) as client:
        actors = Actors(client, old)
        kemlu = actors.worker("KEMLU").headers
        case_id = client.post("/api/v1/cases", json=intake_body(), headers=kemlu).json()["id"]
    with rotating.database.transaction() as session:
        victim = session.get(Victim, uuid.UUID(case_id))
        assert victim is not None and victim.identity_ciphertext is not None
        read = (victim.identity_ciphertext, victim.data_key)
    with old.database.transaction() as session:  # an erasure commits between read and write
        victim = session.get(Victim, uuid.UUID(case_id))
        assert victim is not None
        victim.identity_ciphertext = None
        victim.data_key = None
    with rotating.database.transaction() as session:
        assert not repository.replace_victim_keys(session, uuid.UUID(case_id), read, (b"x", b"y"))
    with rotating.database.transaction() as session:
        victim = session.get(Victim, uuid.UUID(case_id))
        assert victim is not None and victim.identity_ciphertext is None


def test_checkpoints_of_a_retired_signing_key_still_verify(context: AppContext) -> None:
    """The signing key rotates: checkpoints name their key (`key_id`); the old public key in
    NRM_AUDIT_RETIRED_PUBLIC_KEYS keeps them verifiable, and new ones are signed by the new."""
    with context.database.transaction() as session:
        append_stream_event(session, "users", actor=SYSTEM, at=utcnow(), kind="test", payload={})
        checkpoints.checkpoint_now(session, context)
    url, old_key = context.settings.database_url, context.settings.keys
    old_public = signing.encode_public_key(signing.public_key_of(old_key.audit_signing_key))
    new_keys = {
        "secret_key": old_key.secret_key,
        "data_key": generate_keys()["data_key"],
        "audit_signing_key": generate_keys()["audit_signing_key"],
    }
    forgetful = replace(context, settings=settings_for(url, new_keys))
    assert not audit.verify(forgetful).ok  # the old checkpoint's key is unknown
    rotated = replace(
        context, settings=settings_for(url, new_keys, audit_retired_public_keys=old_public)
    )
    with rotated.database.transaction() as session:
        append_stream_event(session, "users", actor=SYSTEM, at=utcnow(), kind="test", payload={})
        checkpoints.checkpoint_now(session, rotated)
    verdict = audit.verify(rotated)
    assert verdict.ok and verdict.checkpoints_checked >= 2
