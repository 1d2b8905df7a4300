"""Guardrail quality: whether a labelled reply is allowed, and precision and recall per rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import CheckResult
from evals.cases import Case
from evals.evaluators import Evaluator, Result, Task

Check = dict[str, Any]  # a /v1/guardrails/check request: "text", and "platform", "flow", "step", "language",
# "messages" (the conversation, when the text is a draft for it)


class GuardrailTask(Task[Check, CheckResult]):
    """A reply checked by the engine; it passes when allowed and the rules found are the expected ones."""

    kind = "guardrail"
    metrics = "guardrails"

    def __init__(self, engine: GuardrailEngine) -> None:
        super().__init__([GuardrailChecks([rule.spec.id for rule in engine.rules])])
        self.engine = engine

    def run(self, case: Case[Check]) -> CheckResult:
        request, text = case.input, case.input["text"]
        messages = request.get("messages")  # a draft checked with its conversation
        context = self.engine.context(text, platform=request.get("platform", "livechat"),
                                      flow=request.get("flow", "livechat"), step=request.get("step"),
                                      language=request.get("language", "auto"),
                                      said=None if messages is None else [m["text"] for m in messages])
        return self.engine.check(text, context)

    def row(self, result: Result[Check, CheckResult]) -> dict[str, Any]:
        request, expected = result.case.input, sorted(result.case.expected.get("rules") or [])
        ok = passed(result)
        return {"passed": ok, "text": request["text"], "platform": request.get("platform"),
                "step": request.get("step"), "expected": expected,
                "got": expected if ok else result.output.rules()}


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


class GuardrailChecks(Evaluator[Check, CheckResult]):
    """`allowed_accuracy` per case (a case that does not say counts as right); per rule, over the cases that
    list their expected rules, precision and recall (only for the rules some case flags or expects)."""

    version = 1

    def __init__(self, rule_ids: Sequence[str]) -> None:
        self.rule_ids = list(rule_ids)

    def evaluate(self, case: Case[Check], output: CheckResult) -> dict[str, float]:
        allowed = case.expected.get("allowed")
        return {"allowed_accuracy": float(allowed is None or allowed == output.allowed)}

    def summarize(self, results: Sequence[Result[Check, CheckResult]]) -> dict[str, float]:
        metrics = {}
        for rule, counts in rule_scores(self.rule_ids, results).items():
            if counts.true_positives + counts.false_negatives + counts.false_positives:
                metrics[f"guardrails.{rule}.precision"] = round(counts.precision, 3)
                metrics[f"guardrails.{rule}.recall"] = round(counts.recall, 3)
        return metrics


def rule_scores(rule_ids: Sequence[str],
                results: Sequence[Result[Check, CheckResult]]) -> dict[str, RuleScore]:
    """True and false positives and false negatives of every rule, over the cases that list their rules."""
    scores = {rule_id: RuleScore() for rule_id in rule_ids}
    for result in results:
        expected_rules = result.case.expected.get("rules")
        if expected_rules is None:
            continue
        found = set(result.output.rules())
        for rule_id, score in scores.items():
            expected, flagged = rule_id in expected_rules, rule_id in found
            score.true_positives += expected and flagged
            score.false_positives += flagged and not expected
            score.false_negatives += expected and not flagged
    return scores


def passed(result: Result[Check, CheckResult]) -> bool:
    rules = result.case.expected.get("rules")
    right_rules = rules is None or set(result.output.rules()) == set(rules)
    return result.scores["allowed_accuracy"] >= 1.0 and right_rules
