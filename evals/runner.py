"""`copilot eval`: every case kind of the datasets through the same pipeline the API uses, one report.

Writes `report.json` (a `metrics` object, one number per metric, and a `cases` list) and `report.html`, and
fails when a metric falls under the `thresholds.yaml` of a dataset's folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from copilot.core import Copilot
from copilot.errors import DatasetError
from evals.drafts import (
    BY_DATASET,
    averages,
    breakdown,
    injection_metrics,
    load_draft_cases,
    ragas_similarity,
    score_draft,
)
from evals.guardrails import load_guardrail_cases, score_guardrails
from evals.judge import judge_from_env
from evals.retrieval import CUTOFFS, document_ranking, first_relevant_rank, load_retrieval_cases
from evals.triage import load_triage_cases, score_triage

Progress = Callable[[str, int, int], None]


@dataclass
class EvalReport:
    metrics: dict[str, float] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "cases": self.cases, "threshold_failures": self.failures,
                "seconds": self.seconds}


def run_eval(copilot: Copilot, datasets: Sequence[Path], progress: Progress | None = None,
             similarity: bool = True) -> EvalReport:
    started = time.perf_counter()
    report = EvalReport()
    known_docs = {d.id for d in copilot.knowledge.documents}
    flows = {f.id: f.step_ids for f in copilot.knowledge.flows.values()}
    rules = {rule.spec.id for rule in copilot.guardrails.rules}
    retrieval = load_retrieval_cases(datasets, known_docs)
    guardrails = load_guardrail_cases(datasets, rules)
    drafts = load_draft_cases(datasets, known_docs, flows)
    triage = load_triage_cases(datasets)
    if not (retrieval or guardrails or drafts or triage):
        raise DatasetError(datasets[0] if datasets else "-", 0, "no evaluation case in the given datasets")
    _retrieval(copilot, retrieval, report, progress)
    _guardrails(copilot, guardrails, report)
    _drafts(copilot, drafts, report, progress, similarity)
    _triage(copilot, triage, report)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _retrieval(copilot: Copilot, cases: list[Any], report: EvalReport, progress: Progress | None) -> None:
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics import NonLLMContextRecall

    context_recall, recalls = NonLLMContextRecall(), []
    lexical = copilot.index.retriever().lexical
    ranks = []
    for index, case in enumerate(cases, start=1):
        hits = copilot.search(case.query, k=20, **case.filters)
        ranking = document_ranking(hits)
        rank = first_relevant_rank(ranking, case.expected_ids)
        ranks.append(rank)
        sample = SingleTurnSample(retrieved_contexts=[h.chunk.text for h in hits[:5]],
                                  reference_contexts=[c.text for c in lexical.chunks_of(case.expected_ids[0])])
        recalls.append(float(context_recall.single_turn_score(sample)))
        report.cases.append({"id": case.id, "kind": "retrieval", "passed": rank is not None and rank <= 3,
                             "query": case.query, "expected": list(case.expected_ids), "got": ranking[:5],
                             "rank": rank})
        if progress:
            progress("retrieval", index, len(cases))
    if ranks:
        for k in CUTOFFS:
            report.metrics[f"retrieval.hit@{k}"] = round(sum(r is not None and r <= k for r in ranks) / len(ranks), 3)
        report.metrics["retrieval.mrr"] = round(sum(1 / r for r in ranks if r) / len(ranks), 3)
        report.metrics["retrieval.context_recall"] = round(sum(recalls) / len(recalls), 3)


def _guardrails(copilot: Copilot, cases: list[Any], report: EvalReport) -> None:
    if not cases:
        return
    scores = score_guardrails(copilot.guardrails, cases)
    report.metrics["guardrails.allowed_accuracy"] = round(scores.allowed_accuracy, 3)
    for rule, score in scores.per_rule.items():
        if score.true_positives + score.false_negatives + score.false_positives:
            report.metrics[f"guardrails.{rule}.precision"] = round(score.precision, 3)
            report.metrics[f"guardrails.{rule}.recall"] = round(score.recall, 3)
    wrong = {case.id: found for case, found in scores.mistakes}
    for case in cases:
        report.cases.append({"id": case.id, "kind": "guardrail", "passed": case.id not in wrong, "text": case.text,
                             "platform": case.request.get("platform"), "step": case.request.get("step"),
                             "expected": sorted(case.expected_rules or []),
                             "got": wrong.get(case.id, sorted(case.expected_rules or []))})


def _drafts(copilot: Copilot, cases: list[Any], report: EvalReport, progress: Progress | None,
            similarity: bool) -> None:
    scorer = ragas_similarity(copilot.index.embedder) if similarity and cases else None
    judge = judge_from_env(copilot) if cases else None
    outcomes = []
    for index, case in enumerate(cases, start=1):
        outcome = score_draft(copilot, case, scorer)
        if judge is not None:
            outcome.scores.update(judge.score(case, outcome.response))
        outcomes.append(outcome)
        response = outcome.response
        report.cases.append({
            "id": case.id, "kind": "draft", "passed": outcome.passed,
            "scores": outcome.scores, "platform": case.request.platform, "language": response.language,
            "expected_step": case.expected.get("step"), "step": response.step, "draft": response.draft,
            "acts": response.acts, "answer": response.answer.id if response.answer else None,
            "reference": case.expected.get("reference", ""), "citations": [c.id for c in response.citations],
            "violations": [v.rule for v in response.guardrails.violations], "repairs": response.guardrails.repairs,
            "last_message": case.request.messages[-1].text,
        })
        if progress:
            progress("drafts", index, len(cases))
    for name, value in averages(outcomes).items():
        report.metrics[f"drafts.{name}"] = value
    for key in ("step", "platform", "language"):
        for label, value in breakdown(outcomes, "step_accuracy", key).items():
            name = f"drafts.step_accuracy.{label}" if key == "step" else f"drafts.step_accuracy.{key}.{label}"
            report.metrics[name] = value
    for metric in BY_DATASET:
        for label, value in breakdown(outcomes, metric, "set").items():
            report.metrics[f"drafts.{metric}.set.{label}"] = value
    report.metrics.update(injection_metrics(outcomes))


def _triage(copilot: Copilot, cases: list[Any], report: EvalReport) -> None:
    if not cases:
        return
    scores = score_triage(copilot, cases)
    for name, value in scores.accuracy.items():
        report.metrics[f"triage.{name}"] = value
    report.metrics["triage.handoff_precision"] = scores.handoff_precision
    report.metrics["triage.handoff_recall"] = scores.handoff_recall
    report.metrics["triage.safety_handoff_recall"] = scores.safety_handoff_recall
    report.metrics["triage.calibration_error"] = scores.calibration_error
    wrong = {case.id: mistakes for case, _, mistakes in scores.mistakes}
    for case in cases:
        report.cases.append({"id": case.id, "kind": "triage", "passed": case.id not in wrong,
                             "text": case.request.messages[-1].text, "mistakes": wrong.get(case.id, [])})


def check_thresholds(report: EvalReport, datasets: Sequence[Path]) -> list[str]:
    """Every `thresholds.yaml` beside the datasets: `metric: minimum` (or `{max: x}` for errors)."""
    failures = []
    for folder in sorted({path.parent for path in datasets}):
        path = folder / "thresholds.yaml"
        if not path.exists():
            continue
        table = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for metric, bound in table.items():
            value = report.metrics.get(metric)
            if value is None:
                failures.append(f"{metric} is missing: no case measured it ({path})")
                continue
            if isinstance(bound, dict) and "max" in bound:
                if value > float(bound["max"]):
                    failures.append(f"{metric} = {value} is above the maximum {bound['max']} ({path})")
            elif value < float(bound):
                failures.append(f"{metric} = {value} is under the threshold {bound} ({path})")
    report.failures = failures
    return failures


def compare(report: EvalReport, old_path: Path) -> dict[str, Any]:
    """Metric deltas and the cases that got worse or better against an earlier report.json."""
    try:
        old = json.loads(old_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(old_path, 0, f"cannot read the report to compare with: {exc}") from exc
    deltas = {name: {"old": old["metrics"].get(name), "new": value,
                     "delta": round(value - old["metrics"][name], 3) if name in old["metrics"] else None}
              for name, value in report.metrics.items()}
    before = {(c["kind"], c["id"]): c["passed"] for c in old.get("cases", [])}
    worse = [c for c in report.cases if before.get((c["kind"], c["id"])) is True and not c["passed"]]
    better = [c for c in report.cases if before.get((c["kind"], c["id"])) is False and c["passed"]]
    return {"metrics": deltas, "worse": worse, "better": better}
