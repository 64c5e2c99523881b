"""Numbers in payloads: one text in every language, so that another verifier agrees.

A payload is hashed into the audit chain as JSON text. Python writes 1e16 as `1e+16`, JavaScript
as `10000000000000000`, and neither holds 2**60 + 1 the same way: only whole numbers within
+-(2**53 - 1) are accepted, and `tests/verify_export.mjs` recomputes an export in Node.js.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.cases import erasure
from service.kit.context import AppContext
from service.kit.principal import SYSTEM
from tests.factories import Actors, fire, walk_to
from workflows.payload import MAX_SAFE_INTEGER, portable_numbers

VERIFIER = Path(__file__).with_name("verify_export.mjs")


def _identified(client: TestClient, actors: Actors, context: AppContext) -> dict[str, Any]:
    definition = context.registry.latest("nrm-indonesia")
    assert definition is not None
    return walk_to(client, actors, definition.definition, "identified")


def _restitution(amount: object) -> dict[str, Any]:
    return {"status": "requested", "amount_idr": amount}


@pytest.mark.parametrize(
    "amount", [1e16, -0.5, 2.5, 2**53, -(2**53), 2**60 + 1, 10**30]
)  # fmt: skip
def test_a_fractional_or_huge_number_in_a_payload_is_refused_naming_the_field(
    client: TestClient, actors: Actors, context: AppContext, amount: object
) -> None:
    case = _identified(client, actors, context)
    response = fire(
        client, actors.worker("POLRI"), case, "record_restitution", _restitution(amount)
    )
    assert response.status_code == 422, (amount, response.text)
    assert "amount_idr" in response.text


def test_a_whole_float_counts_as_an_integer_and_is_recorded_as_one(
    client: TestClient, actors: Actors, context: AppContext
) -> None:
    case = _identified(client, actors, context)
    police = actors.worker("POLRI")
    for amount, recorded in ((5.0, 5), (-0.0, 0), (float(MAX_SAFE_INTEGER), MAX_SAFE_INTEGER)):
        response = fire(client, police, case, "record_restitution", _restitution(amount))
        assert response.status_code == 200, response.text
        case = response.json()
        history = client.get(f"/api/v1/cases/{case['id']}/history", headers=police.headers)
        payload = history.json()["items"][-1]["payload"]
        assert payload["amount_idr"] == recorded and type(payload["amount_idr"]) is int


def test_portable_numbers_walks_lists_and_objects() -> None:
    assert portable_numbers({"a": [1.0, {"b": -0.0}], "c": "1.5"}) == {
        "a": [1, {"b": 0}],
        "c": "1.5",
    }
    for bad in ({"a": [0, {"b": 0.1}]}, {"a": float("nan")}, {"a": float("inf")}):
        with pytest.raises(ValueError, match=r"payload\.a"):
            portable_numbers(bad)


def _export(client: TestClient, actors: Actors, context: AppContext, tmp_path: Path) -> Path:
    case = _identified(client, actors, context)
    police = actors.worker("POLRI")
    response = fire(client, police, case, "record_restitution", _restitution(float(2**40)),
                    note="Laporan diterima — saksi: ibu kandung 👩")  # fmt: skip
    assert response.status_code == 200, response.text
    # a case's notes are sealed; a legal hold's reason is in clear: multi-byte UTF-8 for the
    # verifiers to hash alike
    with context.database.transaction() as session:
        erasure.set_legal_hold(session, context, SYSTEM, case["id"], "Penyidikan — ibu kandung 👩")
    export = client.get("/api/v1/audit/export?format=jsonl", headers=actors.auditor().headers)
    assert export.status_code == 200
    path = tmp_path / "nrm-audit.jsonl"
    path.write_bytes(export.content)
    return path


def _node(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript verifier needs it (CI has it)")
    return subprocess.run(
        [node, str(VERIFIER), str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_verifier_in_javascript_recomputes_every_hash_of_an_export(
    client: TestClient, actors: Actors, context: AppContext, tmp_path: Path
) -> None:
    path = _export(client, actors, context, tmp_path)
    result = _node(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert int(result.stdout.split()[1]) == sum('"type":"event"' in line for line in lines)


def test_the_javascript_verifier_catches_an_edited_event_and_a_float(
    client: TestClient, actors: Actors, context: AppContext, tmp_path: Path
) -> None:
    path = _export(client, actors, context, tmp_path)
    original = path.read_text(encoding="utf-8")
    edited = original.replace("ibu kandung", "ibu angkat", 1)
    assert edited != original
    path.write_text(edited, encoding="utf-8")
    result = _node(path)
    assert result.returncode == 1 and "event hash differs" in result.stderr
    path.write_text(original.replace(f'"amount_idr":{2**40}', '"amount_idr":1e16'), "utf-8")
    result = _node(path)
    assert result.returncode == 1 and "portable" in result.stderr
