"""The canonical serialisation is exactly the documented one, whichever encoder computes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from service.kit.canonical_json import canonical_json, digest, parse_json
from workflows import load_directory
from workflows.loader import checksum

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(JSON)
def test_canonical_json_is_the_documented_json_dumps(value: Any) -> None:
    documented = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == documented.encode()


@settings(max_examples=300)
@given(JSON)
def test_parse_json_reads_back_what_canonical_json_wrote(value: Any) -> None:
    assert parse_json(canonical_json(value)) == json.loads(canonical_json(value))


def test_workflow_checksums_use_the_same_canonical_json() -> None:
    """The pure `workflows` package may not import the service, so it writes its checksum with
    the standard library; it must stay byte-for-byte the service's one canonical JSON."""
    for definition in load_directory():
        assert digest(dict(definition.source)) == definition.checksum
        assert checksum(definition.source) == definition.checksum
