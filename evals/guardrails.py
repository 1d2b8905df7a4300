"""Guardrail quality: precision and recall per rule on labelled replies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.errors import DatasetError
from copilot.guardrails.engine import GuardrailEngine
from evals.datasets import cases_of_kind


@dataclass(frozen=True)
class GuardrailCase:
    id: str
    text: str
    request: dict[str, Any]
    expected_rules: frozenset[str] | None
    expected_allowed: bool | None
    tags: tuple[str, ...] = ()


@dataclass
class RuleScore:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positives + self.false_negatives
        return self.true_positives / relevant if relevant else 1.0


@dataclass
class GuardrailScores:
    cases: int = 0
    allowed_correct: int = 0
    per_rule: dict[str, RuleScore] = field(default_factory=dict)
    mistakes: list[tuple[GuardrailCase, list[str]]] = field(default_factory=list)

    @property
    def allowed_accuracy(self) -> float:
        return self.allowed_correct / self.cases if self.cases else 1.0


def load_guardrail_cases(paths: Iterable[Path], known_rules: set[str]) -> list[GuardrailCase]:
    return [_parse(raw, path, number, known_rules) for path, number, raw in cases_of_kind(paths, "guardrail")]


def _parse(raw: dict[str, Any], path: Path, number: int, known_rules: set[str]) -> GuardrailCase:
    request = raw["input"]
    if not isinstance(request.get("text"), str):
        raise DatasetError(path, number, "required, the text to check", "input.text")
    expected = raw.get("expected", {})
    rules = expected.get("rules")
    if rules is not None:
        unknown = sorted(set(rules) - known_rules)
        if unknown:
            raise DatasetError(path, number, f"unknown rule id(s): {', '.join(unknown)}", "expected.rules")
    allowed = expected.get("allowed")
    return GuardrailCase(raw["id"], request["text"], request, None if rules is None else frozenset(rules),
                         allowed, tuple(raw.get("tags", ())))


def score_guardrails(engine: GuardrailEngine, cases: list[GuardrailCase]) -> GuardrailScores:
    """Run each case through the engine; per-rule counts only for cases that list their expected rules."""
    scores = GuardrailScores(cases=len(cases))
    scores.per_rule = {rule.spec.id: RuleScore() for rule in engine.rules}
    for case in cases:
        context = engine.context(case.text, platform=case.request.get("platform", "livechat"),
                                 flow=case.request.get("flow", "livechat"), step=case.request.get("step"),
                                 language=case.request.get("language", "auto"))
        result = engine.check(case.text, context)
        found = set(result.rules())
        ok = case.expected_allowed is None or case.expected_allowed == result.allowed
        scores.allowed_correct += ok
        if case.expected_rules is not None:
            for rule_id, score in scores.per_rule.items():
                expected, flagged = rule_id in case.expected_rules, rule_id in found
                score.true_positives += expected and flagged
                score.false_positives += flagged and not expected
                score.false_negatives += expected and not flagged
            ok = ok and found == case.expected_rules
        if not ok:
            scores.mistakes.append((case, sorted(found)))
    return scores
