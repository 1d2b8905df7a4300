"""Reading JSONL evaluation datasets with errors that name the file, the line and the field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from copilot.errors import DatasetError

CASE_KINDS = ("draft", "guardrail", "triage", "retrieval")


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
        _check_envelope(case, path, number)
        if case["id"] in seen:
            raise DatasetError(path, number, f"duplicate id '{case['id']}' (first on line {seen[case['id']]})", "id")
        seen[case["id"]] = number
        yield number, case


def cases_of_kind(paths: Iterable[Path], kind: str) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """(file, line number, case) for every case of `kind` in the given datasets, other kinds skipped."""
    for path in paths:
        for number, case in read_cases(path):
            if case["kind"] == kind:
                yield path, number, case


def _check_envelope(case: Any, path: Path, number: int) -> None:
    if not isinstance(case, dict):
        raise DatasetError(path, number, "each line must be a JSON object")
    if not isinstance(case.get("id"), str) or not case["id"]:
        raise DatasetError(path, number, "required, a non-empty string", "id")
    if case.get("kind") not in CASE_KINDS:
        raise DatasetError(path, number, f"must be one of {', '.join(CASE_KINDS)}", "kind")
    for name in ("input", "expected"):
        if not isinstance(case.get(name, {}), dict):
            raise DatasetError(path, number, "must be a JSON object", name)
    if "input" not in case:
        raise DatasetError(path, number, "required", "input")
