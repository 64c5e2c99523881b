"""Read a definition file; refuse, naming the culprit, anything that would misbehave at run time."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from workflows.errors import DefinitionError
from workflows.graph import check_graph
from workflows.guards import GUARDS
from workflows.machine import SEPARATOR
from workflows.model import (
    ESCALATION_LEVELS,
    LAWFUL_BASES,
    PHASES,
    SERVICE_KINDS,
    Deadline,
    DeadlineUnit,
    Definition,
    Emergency,
    EscalationLevel,
    Label,
    LawfulBasis,
    Phase,
    Rung,
    ServiceSpec,
    StateSpec,
    TransitionSpec,
)
from workflows.payload import check_schema

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
_TOP_KEYS = {
    "name", "version", "title", "initial", "warn_at", "escalation", "handover_guards",
    "ministries", "states", "transitions", "services",
}  # fmt: skip
_STATE_KEYS = {
    "phase", "ministry", "supporting", "deadline", "escalate_after", "legal_basis", "label",
    "terminal", "review",
}  # fmt: skip
_TRANSITION_KEYS = {
    "trigger", "source", "dest", "ministries", "guards", "sensitive", "consent", "track",
    "label", "payload", "lawful_basis", "care_plan",
}  # fmt: skip
_SERVICE_KEYS = {"ministry", "label", "start_within", "legal_basis", "lawful_bases", "emergency"}
_EMERGENCY_KEYS = {"start_within", "legal_basis", "lawful_basis"}
_UNITS = get_args(DeadlineUnit)
_STATE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def load_directory(directory: Path = DEFINITIONS_DIR) -> list[Definition]:
    """Every published definition under `directory`, sorted by name and version."""
    definitions = [load_file(path) for path in sorted(directory.glob("*.yaml"))]
    seen: dict[tuple[str, int], Path] = {}
    for path, definition in zip(sorted(directory.glob("*.yaml")), definitions, strict=True):
        key = (definition.name, definition.version)
        if key in seen:
            raise DefinitionError(
                f"{path.name}: {key[0]} v{key[1]} is also defined in {seen[key].name}"
            )
        seen[key] = path
    return sorted(definitions, key=lambda d: (d.name, d.version))


def load_file(path: Path) -> Definition:
    try:
        return parse(read_document(path))
    except DefinitionError as exc:
        raise DefinitionError(f"{path.name}: {exc}") from exc


def read_document(path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """A definition file as data. A file may begin from another one (`extends: <file name>` in
    the same directory): each top-level key it has replaces the other file's, so a new version
    states only what changed. The published document (and its checksum) is the merged whole."""
    if path in seen:
        raise DefinitionError(f"{path.name} extends itself (through {seen[-1].name})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(document, dict) or "extends" not in document:
        return document
    base_name = document.pop("extends")
    if not isinstance(base_name, str) or "/" in base_name or "\\" in base_name:
        raise DefinitionError(f"{path.name}: extends names a file beside it, not {base_name!r}")
    base = read_document(path.parent / base_name, (*seen, path))
    return {**_mapping(base, base_name), **document}


def checksum(document: Mapping[str, Any]) -> str:
    """SHA-256 of the definition's meaning: canonical JSON, so comments and layout do not count."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse(document: Any) -> Definition:
    doc = _mapping(document, "the definition")
    _no_unknown_keys(doc, _TOP_KEYS, "the definition", allow_extensions=True)
    name = _required(doc, "name", str, "the definition")
    version = _required(doc, "version", int, "the definition")
    ministries = {
        code: _label(label, f"ministry {code}")
        for code, label in _mapping(_required(doc, "ministries", dict, name), "ministries").items()
    }
    escalation = _mapping(doc.get("escalation", {}), "escalation")
    escalate_to = str(escalation.get("to", "GUGUS_TUGAS"))
    if escalate_to not in ministries:
        raise DefinitionError(f"escalation: unknown ministry {escalate_to!r}")
    default_after = _deadline(escalation.get("after"), "escalation.after")
    ladder = _ladder(escalation.get("ladder"))
    # A definition with services (version 3 on) cites a legal basis for every state.
    cited = "services" in doc
    states = {
        state_name: _state(state_name, raw, ministries, default_after, cited)
        for state_name, raw in _mapping(_required(doc, "states", dict, name), "states").items()
    }
    services = _services(doc["services"], ministries) if cited else {}
    handover_guards = tuple(doc.get("handover_guards", ()))
    transitions = _transitions(doc, states, ministries, handover_guards)
    initial = _required(doc, "initial", str, name)
    check_graph(initial, states, transitions)
    warn_at = float(doc.get("warn_at", 0.75))
    if not 0 < warn_at < 1:
        raise DefinitionError(f"warn_at must lie between 0 and 1, not {warn_at}")
    definition_body = {k: v for k, v in doc.items() if not str(k).startswith("x-")}
    return Definition(
        name=name,
        version=version,
        title=_label(doc.get("title"), "title"),
        initial=initial,
        ministries=ministries,
        states=states,
        transitions=transitions,
        warn_at=warn_at,
        escalate_to=escalate_to,
        ladder=ladder,
        checksum=checksum(definition_body),
        source=definition_body,
        services=services,
        escalate_after=default_after,
    )


def _ladder(raw: Any) -> tuple[Rung, ...]:
    """`escalation.ladder`: rungs from the district up, the last the national Task Force.
    Without one, a breach escalates to the national Task Force alone (as version 1 does)."""
    if raw is None:
        return (Rung(level="national", after=None),)
    rungs: list[Rung] = []
    for index, item in enumerate(_list(raw, "escalation.ladder")):
        where = f"escalation.ladder[{index}]"
        item = _mapping(item, where)
        _no_unknown_keys(item, {"level", "after"}, where)
        level = item.get("level")
        if level not in ESCALATION_LEVELS:
            raise DefinitionError(
                f"{where}.level must be one of {', '.join(ESCALATION_LEVELS)}, not {level!r}"
            )
        if rungs and ESCALATION_LEVELS.index(level) <= ESCALATION_LEVELS.index(rungs[-1].level):
            raise DefinitionError(
                f"{where}: the ladder climbs; {level} cannot follow {rungs[-1].level}"
            )
        after = _deadline(item.get("after"), f"{where}.after")
        if rungs and after is None:
            raise DefinitionError(f"{where} needs `after`: how long the rung below has to act")
        if not rungs and after is not None:
            raise DefinitionError(
                f"{where}: the first rung comes the state's escalate_after past the breach; "
                "it has no `after`"
            )
        rungs.append(Rung(level=cast(EscalationLevel, level), after=after))
    if not rungs or rungs[-1].level != "national":
        raise DefinitionError("escalation.ladder ends with the national Task Force")
    return tuple(rungs)


def _services(raw: Any, ministries: Mapping[str, Label]) -> dict[str, ServiceSpec]:
    """`services:` the kinds of service that run beside the pathway, each with its owner and
    the time it has to start (UU 21/2007 Art. 52(1)), every one citing its legal basis."""
    specs: dict[str, ServiceSpec] = {}
    for kind, item in _mapping(raw, "services").items():
        where = f"service {kind!r}"
        if kind not in SERVICE_KINDS:
            raise DefinitionError(f"{where}: a service is one of {', '.join(SERVICE_KINDS)}")
        item = _mapping(item, where)
        _no_unknown_keys(item, _SERVICE_KEYS, where)
        ministry = str(item.get("ministry"))
        if ministry not in ministries:
            raise DefinitionError(f"{where}: unknown ministry {ministry!r}")
        start_within = _deadline(item.get("start_within"), f"{where}.start_within")
        if start_within is None:
            raise DefinitionError(f"{where} has no start_within: every service must start in time")
        bases = tuple(item.get("lawful_bases", ()))
        for basis in bases:
            _lawful_basis(basis, f"{where}.lawful_bases")
        specs[kind] = ServiceSpec(
            kind=kind,
            ministry=ministry,
            label=_label(item.get("label"), f"{where}.label"),
            start_within=start_within,
            legal_basis=_legal_basis(item, where),
            lawful_bases=bases,
            emergency=_emergency(item.get("emergency"), start_within, f"{where}.emergency"),
        )
    if not specs:
        raise DefinitionError("services must name at least one service")
    return specs


def _emergency(raw: Any, usual: Deadline, where: str) -> Emergency | None:
    if raw is None:
        return None
    raw = _mapping(raw, where)
    _no_unknown_keys(raw, _EMERGENCY_KEYS, where)
    start_within = _deadline(raw.get("start_within"), f"{where}.start_within")
    if start_within is None:
        raise DefinitionError(f"{where} has no start_within")
    if _rough_hours(start_within) >= _rough_hours(usual):
        raise DefinitionError(f"{where}.start_within must be shorter than the service's own")
    return Emergency(
        start_within=start_within,
        legal_basis=_legal_basis(raw, where),
        lawful_basis=_lawful_basis(raw.get("lawful_basis"), f"{where}.lawful_basis"),
    )


def _rough_hours(deadline: Deadline) -> float:
    per = {"minutes": 1 / 60, "hours": 1, "days": 24, "business_days": 24}
    return deadline.amount * per[deadline.unit]


def _legal_basis(raw: Mapping[str, Any], where: str) -> str:
    basis = raw.get("legal_basis")
    if not isinstance(basis, str) or not basis.strip():
        raise DefinitionError(
            f"{where} has no legal_basis: cite article and paragraph, or say 'design choice'"
        )
    return basis


def _lawful_basis(raw: Any, where: str) -> LawfulBasis:
    """A basis other than consent (consent is given by `consent: record`, not assumed)."""
    if raw not in LAWFUL_BASES or raw == "consent":
        others = ", ".join(b for b in LAWFUL_BASES if b != "consent")
        raise DefinitionError(
            f"{where} must be one of {others} (UU 27/2022 Art. 20(2)), not {raw!r}"
        )
    return cast(LawfulBasis, raw)


def _state(
    name: str,
    raw: Any,
    ministries: Mapping[str, Label],
    default_after: Deadline | None,
    cited: bool = False,
) -> StateSpec:
    where = f"state {name!r}"
    if not isinstance(name, str) or not _STATE_NAME.fullmatch(name) or SEPARATOR in name:
        raise DefinitionError(
            f"{where}: a state name is lower-case letters, digits and single underscores"
        )
    raw = _mapping(raw, where)
    _no_unknown_keys(raw, _STATE_KEYS, where)
    phase = raw.get("phase")
    if phase not in PHASES:
        raise DefinitionError(f"{where}: phase must be one of {', '.join(PHASES)}, not {phase!r}")
    ministry = raw.get("ministry")
    if not ministry:
        raise DefinitionError(f"{where} has no lead ministry")
    for code in (ministry, *raw.get("supporting", ())):
        if code not in ministries:
            raise DefinitionError(f"{where}: unknown ministry {code!r}")
    terminal = bool(raw.get("terminal", False))
    deadline = _deadline(raw.get("deadline"), f"{where}.deadline")
    review = _deadline(raw.get("review"), f"{where}.review")
    if terminal and (deadline or review) is not None:
        raise DefinitionError(f"{where} is terminal and cannot have a deadline or a review")
    if deadline is not None and review is not None:
        raise DefinitionError(f"{where}: a step has a deadline, a stay a review; not both")
    if not terminal and deadline is None and review is None:
        raise DefinitionError(f"{where} has no deadline; every open step is due some time")
    if cited:
        _legal_basis(raw, where)
    return StateSpec(
        name=name,
        phase=cast(Phase, phase),
        ministry=ministry,
        supporting=tuple(raw.get("supporting", ())),
        label=_label(raw.get("label"), f"{where}.label"),
        legal_basis=str(raw.get("legal_basis") or ""),
        deadline=deadline,
        escalate_after=_deadline(raw.get("escalate_after"), f"{where}.escalate_after")
        or (None if terminal or review else default_after),
        terminal=terminal,
        review=review,
    )


def _transitions(
    doc: Mapping[str, Any],
    states: Mapping[str, StateSpec],
    ministries: Mapping[str, Label],
    handover_guards: tuple[str, ...],
) -> tuple[TransitionSpec, ...]:
    rows: list[TransitionSpec] = []
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(_list(doc.get("transitions"), "transitions")):
        for row in _expand(index, raw, states, ministries, handover_guards):
            if (row.trigger, row.source) in seen:
                raise DefinitionError(
                    f"transition {row.trigger!r} leaves {row.source!r} twice; one row per source"
                )
            seen.add((row.trigger, row.source))
            rows.append(row)
    return tuple(rows)


def _expand(
    index: int,
    raw: Any,
    states: Mapping[str, StateSpec],
    ministries: Mapping[str, Label],
    handover_guards: tuple[str, ...],
) -> Iterable[TransitionSpec]:
    raw = _mapping(raw, f"transitions[{index}]")
    trigger = _required(raw, "trigger", str, f"transitions[{index}]")
    where = f"transition {trigger!r}"
    _no_unknown_keys(raw, _TRANSITION_KEYS, where)
    sources = raw.get("source")
    sources = [sources] if isinstance(sources, str) else _list(sources, f"{where}.source")
    guards = tuple(raw.get("guards", ()))
    for guard_name in (*guards, *handover_guards):
        if guard_name not in GUARDS:
            raise DefinitionError(f"{where}: guard {guard_name!r} does not exist")
    consent = raw.get("consent")
    if consent not in (None, "record", "withdraw"):
        raise DefinitionError(f"{where}: consent must be 'record' or 'withdraw', not {consent!r}")
    track = raw.get("track")
    if track not in (None, "legal"):
        raise DefinitionError(f"{where}: track must be 'legal', not {track!r}")
    lawful_basis = raw.get("lawful_basis")
    if lawful_basis is not None:
        lawful_basis = _lawful_basis(lawful_basis, f"{where}.lawful_basis")
        if consent is not None:
            raise DefinitionError(f"{where}: a step rests on consent or on a lawful_basis")
    care_plan = raw.get("care_plan")
    if care_plan not in (None, "review"):
        raise DefinitionError(f"{where}: care_plan must be 'review', not {care_plan!r}")
    if care_plan and raw.get("dest") != "=":
        raise DefinitionError(f"{where}: a care-plan review keeps the case in its stay (dest '=')")
    schema = _closed(_mapping(raw.get("payload", {"type": "object"}), f"{where}.payload"))
    check_schema(schema, where)
    for source in sources:
        dest = source if raw.get("dest") == "=" else raw.get("dest")
        for state_name in (source, dest):
            if state_name not in states:
                raise DefinitionError(f"{where}: unknown state {state_name!r}")
        src, dst = states[source], states[dest]
        if care_plan and src.review is None:
            raise DefinitionError(f"{where}: {source!r} is not a stay with a care-plan review")
        codes = tuple(raw.get("ministries") or (src.ministry,))
        for code in codes:
            if code not in ministries:
                raise DefinitionError(f"{where}: unknown ministry {code!r}")
        row_where = f"{where} from {source!r}"
        is_handover = (
            src.phase != "identification"
            and dst.phase != "closure"
            and dst.ministry != src.ministry
        )
        yield TransitionSpec(
            trigger=trigger,
            source=source,
            dest=dest,
            ministries=codes,
            payload_schema=schema,
            guards=guards + (handover_guards if is_handover else ()),
            label=_label(raw.get("label"), f"{where}.label"),
            sensitive=bool(raw.get("sensitive", False)),
            consent=consent,
            track=track,
            closes_with=_closure_reasons(schema, row_where) if dst.terminal else (),
            lawful_basis=lawful_basis,
            care_plan_review=bool(care_plan),
        )


def _closure_reasons(schema: Mapping[str, Any], where: str) -> tuple[str, ...]:
    reason = schema.get("properties", {}).get("reason", {})
    if "reason" not in schema.get("required", ()) or not reason.get("enum"):
        raise DefinitionError(
            f"{where} closes the case: its payload needs a required enum 'reason'"
        )
    return tuple(reason["enum"])


def _closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Copy `schema`, closing every object that does not say otherwise, and default to an object."""
    result = dict(schema)
    if "properties" in result:
        result["properties"] = {key: _closed(value) for key, value in result["properties"].items()}
    if isinstance(result.get("items"), Mapping):
        result["items"] = _closed(result["items"])
    if result.get("type") == "object" or "properties" in result:
        result.setdefault("type", "object")
        result.setdefault("additionalProperties", False)
    return result


def _deadline(raw: Any, where: str) -> Deadline | None:
    if raw is None:
        return None
    raw = _mapping(raw, where)
    if len(raw) != 1:
        raise DefinitionError(f"{where}: give exactly one of {', '.join(_UNITS)}")
    ((unit, amount),) = raw.items()
    if unit not in _UNITS:
        raise DefinitionError(f"{where}: unit must be one of {', '.join(_UNITS)}, not {unit!r}")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise DefinitionError(f"{where}: {unit} must be a positive whole number, not {amount!r}")
    return Deadline(amount=amount, unit=cast(DeadlineUnit, unit))


def _label(raw: Any, where: str) -> Label:
    raw = _mapping(raw, where)
    if not raw.get("id") or not raw.get("en"):
        raise DefinitionError(f"{where}: a label needs Bahasa Indonesia ('id') and English ('en')")
    return Label(id=str(raw["id"]), en=str(raw["en"]))


def _required(raw: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = raw.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DefinitionError(f"{where}: {key!r} must be a {kind.__name__}")
    return value


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where} must be a mapping")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise DefinitionError(f"{where} must be a non-empty list")
    return raw


def _no_unknown_keys(
    raw: Mapping[str, Any], known: set[str], where: str, allow_extensions: bool = False
) -> None:
    unknown = sorted(
        str(k) for k in raw if k not in known and not (allow_extensions and str(k).startswith("x-"))
    )
    if unknown:
        raise DefinitionError(f"{where}: unknown key(s) {', '.join(unknown)}")
