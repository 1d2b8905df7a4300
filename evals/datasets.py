"""Reading JSONL evaluation datasets into cases, with errors that name the file, the line and the field."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from copilot.contracts import DraftRequest
from copilot.errors import DatasetError
from copilot.triage.contracts import TriageRequest
from evals.cases import Case

if TYPE_CHECKING:
    from copilot.core import Copilot

CASE_KINDS = ("draft", "guardrail", "triage", "retrieval")


@dataclass(frozen=True)
class Known:
    """The ids a case may name: documents, each flow's steps, guardrail rules (None: not checked)."""

    documents: frozenset[str] | None = None
    flows: dict[str, list[str]] | None = None
    rules: frozenset[str] | None = None

    @classmethod
    def of(cls, copilot: Copilot) -> Known:
        return cls(frozenset(d.id for d in copilot.knowledge.documents),
                   {f.id: f.step_ids for f in copilot.knowledge.flows.values()},
                   frozenset(rule.spec.id for rule in copilot.guardrails.rules))


@dataclass(frozen=True)
class Line:
    """Where a case stands, for its errors."""

    path: Path
    number: int

    def error(self, reason: str, field: str | None = None) -> DatasetError:
        return DatasetError(self.path, self.number, reason, field)


def load_cases(paths: Iterable[Path], known: Known, kind: str | None = None) -> list[Case[Any]]:
    """The cases of the datasets (of `kind` only, when given), inputs parsed and expected ids checked."""
    return [Case(raw["id"], raw["kind"], _INPUTS[raw["kind"]](raw, Line(path, number), known),
                 raw.get("expected", {}), tuple(raw.get("tags", ())), path.stem)
            for path in paths for number, raw in read_cases(path) if kind in (None, raw["kind"])]


def read_cases(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, case) for every non-blank line; checks the envelope every kind shares."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(path, 0, f"cannot be read ({exc.strerror})") from exc
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
        where = Line(path, number)
        _check_envelope(case, where)
        if case["id"] in seen:
            raise where.error(f"duplicate id '{case['id']}' (first on line {seen[case['id']]})", "id")
        seen[case["id"]] = number
        yield number, case


def _check_envelope(case: Any, line: Line) -> None:
    if not isinstance(case, dict):
        raise line.error("each line must be a JSON object")
    if not isinstance(case.get("id"), str) or not case["id"]:
        raise line.error("required, a non-empty string", "id")
    if case.get("kind") not in CASE_KINDS:
        raise line.error(f"must be one of {', '.join(CASE_KINDS)}", "kind")
    for name in ("input", "expected"):
        if not isinstance(case.get(name, {}), dict):
            raise line.error("must be a JSON object", name)
    if "input" not in case:
        raise line.error("required", "input")


def _request(model: type[BaseModel], raw: dict[str, Any], line: Line) -> Any:
    try:
        return model.model_validate(raw["input"])
    except ValidationError as exc:
        error = exc.errors()[0]
        raise line.error(str(error["msg"]), "input." + ".".join(str(part) for part in error["loc"])) from exc


def _unknown(ids: Iterable[str], known: frozenset[str] | None) -> list[str]:
    return [] if known is None else [i for i in ids if i not in known]


def _draft(raw: dict[str, Any], line: Line, known: Known) -> DraftRequest:
    request: DraftRequest = _request(DraftRequest, raw, line)
    expected = raw.get("expected", {})
    step = expected.get("step")
    if known.flows is not None and step is not None and step not in known.flows.get(request.flow, []):
        raise line.error(f"unknown step '{step}' for flow '{request.flow}'", "expected.step")
    unknown = _unknown(expected.get("must_cite", []), known.documents)
    if unknown:
        raise line.error(f"unknown document id(s): {', '.join(unknown)}", "expected.must_cite")
    _check_facts(expected, line)
    if "answerable" in expected and not isinstance(expected["answerable"], bool):
        raise line.error("must be true or false", "expected.answerable")
    return request


def _check_facts(expected: dict[str, Any], line: Line) -> None:
    """`must_include_any`: groups of alternatives; `must_not_include`: phrases."""
    groups = expected.get("must_include_any", [])
    if not isinstance(groups, list) or not all(
            isinstance(g, list) and g and all(isinstance(a, str) for a in g) for g in groups):
        raise line.error("must be a list of non-empty lists of strings", "expected.must_include_any")
    phrases = expected.get("must_not_include", [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p for p in phrases):
        raise line.error("must be a list of non-empty strings", "expected.must_not_include")


def _guardrail(raw: dict[str, Any], line: Line, known: Known) -> dict[str, Any]:
    request: dict[str, Any] = raw["input"]
    if not isinstance(request.get("text"), str):
        raise line.error("required, the text to check", "input.text")
    rules = raw.get("expected", {}).get("rules")
    unknown = sorted(_unknown(set(rules), known.rules)) if rules is not None else []
    if unknown:
        raise line.error(f"unknown rule id(s): {', '.join(unknown)}", "expected.rules")
    return request


def _retrieval(raw: dict[str, Any], line: Line, known: Known) -> dict[str, Any]:
    request: dict[str, Any] = raw["input"]
    query = request.get("q")
    if not isinstance(query, str) or not query.strip():
        raise line.error("required, the query text", "input.q")
    ids = raw.get("expected", {}).get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise line.error("required, a non-empty list of document ids", "expected.ids")
    unknown = _unknown(ids, known.documents)
    if unknown:
        raise line.error(f"unknown document id(s): {', '.join(unknown)}", "expected.ids")
    return request


def _triage(raw: dict[str, Any], line: Line, known: Known) -> TriageRequest:
    request: TriageRequest = _request(TriageRequest, raw, line)
    _check_facts(raw.get("expected", {}), line)
    return request


_INPUTS: dict[str, Callable[[dict[str, Any], Line, Known], Any]] = {
    "draft": _draft, "guardrail": _guardrail, "triage": _triage, "retrieval": _retrieval}
