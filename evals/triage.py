"""Triage quality: accuracy per field, handoffs, and whether the confidence means something (calibration)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copilot.core import Copilot
from copilot.triage.contracts import TriageRequest, TriageResponse
from evals.cases import Case
from evals.evaluators import Evaluator, Result, Task

FIELDS = ("urgency", "issue_type", "intent", "sentiment", "handoff", "route")
SAFETY_TAGS = frozenset({"legal", "fraud", "security"})
Reliability = list[tuple[str, int, float, float]]  # a confidence bin: label, cases, mean confidence, accuracy


class TriageTask(Task[TriageRequest, TriageResponse]):
    """A conversation triaged; it passes when every expected field is right."""

    kind = "triage"
    metrics = "triage"

    def __init__(self, copilot: Copilot) -> None:
        super().__init__([TriageFields()])
        self.copilot = copilot

    def run(self, case: Case[TriageRequest]) -> TriageResponse:
        return self.copilot.triage(case.input)

    def row(self, result: Result[TriageRequest, TriageResponse]) -> dict[str, Any]:
        wrong = mistakes(result)
        return {"passed": not wrong, "text": result.case.input.messages[-1].text, "mistakes": wrong}


class TriageFields(Evaluator[TriageRequest, TriageResponse]):
    """Each expected field right or wrong; over the set, handoff precision and recall (also on the legal,
    fraud and security cases alone) and the expected calibration error of the intent confidence."""

    version = 1

    def evaluate(self, case: Case[TriageRequest], output: TriageResponse) -> dict[str, float]:
        return {name: float(getattr(output, name) == case.expected[name])
                for name in FIELDS if name in case.expected}

    def summarize(self, results: Sequence[Result[TriageRequest, TriageResponse]]) -> dict[str, float]:
        scores = handoffs(results)
        return {"triage.handoff_precision": scores.precision, "triage.handoff_recall": scores.recall,
                "triage.safety_handoff_recall": scores.safety_recall,
                "triage.calibration_error": calibration(confidences(results))[0]}


@dataclass(frozen=True)
class Handoffs:
    precision: float
    recall: float
    safety_recall: float
    safety_cases: int


def mistakes(result: Result[TriageRequest, TriageResponse]) -> list[str]:
    """The wrong fields, each with what triage said and what was expected."""
    expected = result.case.expected
    return [f"{name}: {getattr(result.output, name)} (expected {expected[name]})"
            for name in FIELDS if result.scores.get(name, 1.0) < 1.0]


def handoffs(results: Sequence[Result[TriageRequest, TriageResponse]]) -> Handoffs:
    """Over the cases that say whether to hand off; a safety case is tagged legal, fraud or security."""
    pairs = [(bool(r.case.expected["handoff"]), r.output.handoff, bool(SAFETY_TAGS & set(r.case.tags)))
             for r in results if "handoff" in r.case.expected]
    flagged = [expected for expected, got, _ in pairs if got]
    wanted = [got for expected, got, _ in pairs if expected]
    safety = [got for expected, got, is_safety in pairs if expected and is_safety]
    return Handoffs(_share(flagged), _share(wanted), _share(safety), len(safety))


def _share(values: list[bool]) -> float:
    return round(sum(values) / len(values), 3) if values else 1.0


def confidences(results: Sequence[Result[TriageRequest, TriageResponse]]) -> list[tuple[float, bool]]:
    """The intent confidence of every case that names its intent, and whether the intent was right."""
    return [(r.output.confidence, r.output.intent == r.case.expected["intent"])
            for r in results if "intent" in r.case.expected]


def calibration(pairs: list[tuple[float, bool]], bins: int = 5) -> tuple[float, Reliability]:
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
