"""Triage quality: accuracy per field, and whether the confidence means something (calibration)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copilot.core import Copilot
from copilot.errors import DatasetError
from copilot.triage.engine import TriageRequest, TriageResponse
from evals.datasets import cases_of_kind

FIELDS = ("urgency", "issue_type", "intent", "sentiment", "handoff", "route")


@dataclass(frozen=True)
class TriageCase:
    id: str
    request: TriageRequest
    expected: dict[str, Any]
    tags: tuple[str, ...] = ()


@dataclass
class TriageScores:
    cases: int = 0
    accuracy: dict[str, float] = field(default_factory=dict)
    calibration_error: float = 0.0
    reliability: list[tuple[str, int, float, float]] = field(default_factory=list)
    mistakes: list[tuple[TriageCase, TriageResponse, list[str]]] = field(default_factory=list)
    handoff_precision: float = 1.0
    handoff_recall: float = 1.0
    safety_handoff_recall: float = 1.0
    safety_cases: int = 0


def load_triage_cases(paths: Iterable[Path]) -> list[TriageCase]:
    cases = []
    for path, number, raw in cases_of_kind(paths, "triage"):
        try:
            request = TriageRequest.model_validate(raw["input"])
        except ValidationError as exc:
            error = exc.errors()[0]
            raise DatasetError(path, number, str(error["msg"]),
                               "input." + ".".join(str(p) for p in error["loc"])) from exc
        cases.append(TriageCase(raw["id"], request, raw.get("expected", {}), tuple(raw.get("tags", ()))))
    return cases


def score_triage(copilot: Copilot, cases: list[TriageCase], bins: int = 5) -> TriageScores:
    """Accuracy of every expected field; expected calibration error of the intent confidence."""
    scores = TriageScores(cases=len(cases))
    hits: dict[str, list[bool]] = {name: [] for name in FIELDS}
    confidences: list[tuple[float, bool]] = []
    pairs: list[tuple[bool, bool, bool]] = []  # expected handoff, got handoff, a safety case
    for case in cases:
        response = copilot.triage(case.request)
        if "handoff" in case.expected:
            is_safety = bool({"legal", "fraud", "security"} & set(case.tags))
            pairs.append((bool(case.expected["handoff"]), response.handoff, is_safety))
        wrong = []
        for name in FIELDS:
            if name in case.expected:
                ok = getattr(response, name) == case.expected[name]
                hits[name].append(ok)
                if not ok:
                    wrong.append(f"{name}: {getattr(response, name)} (expected {case.expected[name]})")
        if "intent" in case.expected:
            confidences.append((response.confidence, response.intent == case.expected["intent"]))
        if wrong:
            scores.mistakes.append((case, response, wrong))
    scores.accuracy = {name: round(sum(v) / len(v), 3) for name, v in hits.items() if v}
    flagged = [expected for expected, got, _ in pairs if got]
    wanted = [got for expected, got, _ in pairs if expected]
    safety_hits = [got for expected, got, is_safety in pairs if expected and is_safety]
    scores.handoff_precision = round(sum(flagged) / len(flagged), 3) if flagged else 1.0
    scores.handoff_recall = round(sum(wanted) / len(wanted), 3) if wanted else 1.0
    scores.safety_handoff_recall = round(sum(safety_hits) / len(safety_hits), 3) if safety_hits else 1.0
    scores.safety_cases = len(safety_hits)
    scores.calibration_error, scores.reliability = _calibration(confidences, bins)
    return scores


def _calibration(pairs: list[tuple[float, bool]], bins: int) -> tuple[float, list[tuple[str, int, float, float]]]:
    """Expected calibration error: |accuracy - mean confidence| per confidence bin, weighted by its size."""
    rows, error = [], 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= c < high or (index == bins - 1 and c == 1.0)]
        if not inside:
            continue
        confidence = sum(c for c, _ in inside) / len(inside)
        accuracy = sum(ok for _, ok in inside) / len(inside)
        error += len(inside) / max(len(pairs), 1) * abs(accuracy - confidence)
        rows.append((f"{low:.1f}-{high:.1f}", len(inside), round(confidence, 3), round(accuracy, 3)))
    return round(error, 3), rows
