"""`copilot eval`: every case kind of the datasets through the same pipeline the API uses, one report.

Writes `report.json` (a `metrics` object, one number per metric, the version of every evaluator that
scored, and a `cases` list) and `report.html`, and fails when a metric falls under the `thresholds.yaml` of a
dataset's folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from copilot.core import Copilot
from copilot.errors import DatasetError
from evals.cases import Case
from evals.datasets import Known, load_cases
from evals.drafts import DraftChecks, DraftTask, RagasSimilarity
from evals.evaluators import Evaluator, Progress, Task, means, score
from evals.guardrails import GuardrailTask
from evals.judge import judge_from_env
from evals.retrieval import ContextRecall, RetrievalRanks, RetrievalTask
from evals.triage import TriageTask

KINDS = ("retrieval", "guardrail", "draft", "triage")  # the order of the report


@dataclass
class EvalReport:
    """`evaluators` holds the version of every evaluator that scored: numbers compare when versions match."""

    metrics: dict[str, float] = field(default_factory=dict)
    evaluators: dict[str, int] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "evaluators": self.evaluators, "cases": self.cases,
                "threshold_failures": self.failures, "seconds": self.seconds}


def run_eval(copilot: Copilot, datasets: Sequence[Path], progress: Progress | None = None,
             similarity: bool = True) -> EvalReport:
    started = time.perf_counter()
    cases = load_cases(datasets, Known.of(copilot))
    if not cases:
        raise DatasetError(datasets[0] if datasets else "-", 0, "no evaluation case in the given datasets")
    report = EvalReport()
    for kind in KINDS:
        of_kind = [case for case in cases if case.kind == kind]
        if of_kind:
            add(report, task_for(kind, copilot, similarity), of_kind, progress)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def task_for(kind: str, copilot: Copilot, similarity: bool = True) -> Task[Any, Any]:
    """The task `copilot eval` runs for a kind of case, with every evaluator it has."""
    if kind == "retrieval":
        return RetrievalTask(copilot, [RetrievalRanks(), ContextRecall(copilot)])
    if kind == "guardrail":
        return GuardrailTask(copilot.guardrails)
    if kind == "triage":
        return TriageTask(copilot)
    evaluators: list[Evaluator[Any, Any]] = [DraftChecks(copilot.guardrails, copilot.knowledge.slot_words)]
    if similarity:
        evaluators.append(RagasSimilarity(copilot.index.embedder))
    judge = judge_from_env(copilot)
    return DraftTask(copilot, evaluators + ([judge] if judge else []))


def add(report: EvalReport, task: Task[Any, Any], cases: Sequence[Case[Any]],
        progress: Progress | None = None) -> None:
    """The one report loop for every kind: each case scored and shown, each score averaged under the task's
    name, each evaluator's summary and version."""
    results = score(task, cases, progress)
    report.cases += [{"id": r.case.id, "kind": r.case.kind, **task.row(r)} for r in results]
    report.metrics.update({f"{task.metrics}.{name}": value for name, value in means(results).items()})
    for evaluator in task.evaluators:
        report.metrics.update(evaluator.summarize(results))
        report.evaluators[evaluator.name] = evaluator.version


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
    """Metric deltas and the cases that got worse or better against an earlier report.json, and the evaluators
    whose version changed since (their metrics do not compare)."""
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
    versions = old.get("evaluators", {})
    changed = sorted(name for name, version in report.evaluators.items()
                     if versions.get(name, version) != version)
    return {"metrics": deltas, "worse": worse, "better": better, "changed_evaluators": changed}
