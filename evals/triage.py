"""Triage quality: accuracy per field, handoffs, and whether the confidence means something (calibration)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copilot.core import Copilot
from copilot.triage.contracts import TriageRequest, TriageResponse
from evals.cases import Case
from evals.drafts import breakdown, carries, says_any
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
    """Each expected field right or wrong; whether an auto-reply the bot sent is right; over the set, handoff
    precision and recall (also on the legal, fraud and security cases alone) and the expected calibration
    error of the intent confidence."""

    version = 2  # 2: auto_reply_right

    def evaluate(self, case: Case[TriageRequest], output: TriageResponse) -> dict[str, float]:
        scores = {name: float(getattr(output, name) == case.expected[name])
                  for name in FIELDS if name in case.expected}
        return {**scores, **auto_reply_scores(case.expected, output)}

    def summarize(self, results: Sequence[Result[TriageRequest, TriageResponse]]) -> dict[str, float]:
        scores = handoffs(results)
        per_set = {f"triage.{metric}.set.{label}": value for metric in ("auto_reply_right", "handoff")
                   for label, value in breakdown(results, metric, "set").items()}
        return {"triage.handoff_precision": scores.precision, "triage.handoff_recall": scores.recall,
                "triage.safety_handoff_recall": scores.safety_recall,
                "triage.calibration_error": calibration(confidences(results))[0], **per_set}


@dataclass(frozen=True)
class Handoffs:
    precision: float
    recall: float
    safety_recall: float
    safety_cases: int


def auto_reply_scores(expected: dict[str, Any], output: TriageResponse) -> dict[str, float]:
    """For an auto-reply the bot sent to a case that says what a right one carries (`must_include_any`, and
    `must_not_include`): whether it is right. Cases the bot handed off, and auto-replies to a case a person
    must take, are scored by the handoff field (its recall); a case that says no facts is not scored here."""
    if output.auto_reply is None or output.handoff or not expected.get("must_include_any"):
        return {}
    text = output.auto_reply.text
    forbidden = says_any(text, expected.get("must_not_include", []))
    right = carries(text, expected["must_include_any"]) and not forbidden
    return {"auto_reply_right": float(right)}


def mistakes(result: Result[TriageRequest, TriageResponse]) -> list[str]:
    """The wrong fields, each with what triage said and what was expected."""
    expected = result.case.expected
    wrong = [f"{name}: {getattr(result.output, name)} (expected {expected[name]})"
             for name in FIELDS if result.scores.get(name, 1.0) < 1.0]
    if result.scores.get("auto_reply_right", 1.0) < 1.0 and result.output.auto_reply is not None:
        wrong.append(f"auto_reply: {result.output.auto_reply.text[:120]!r} (expected "
                     f"{'a person' if expected.get('handoff') else expected.get('must_include_any')})")
    return wrong


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
