"""Measuring: the eval gate and the focused reports (retrieval, drafts, answers, triage, intents,
guardrails); the step model's report and training are in `steps.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from copilot.cli.common import (
    IndexOpt,
    KnowledgeOpt,
    app,
    build,
    err,
    friendly_errors,
    out,
)
from copilot.errors import InvalidRequestError
from copilot.settings import Settings

if TYPE_CHECKING:
    from copilot.core import Copilot
    from evals.runner import EvalReport

PANEL = "Measure"  # where `copilot --help` lists these commands


@app.command("eval", rich_help_panel=PANEL)
@friendly_errors
def evaluate(
    datasets: Annotated[list[str], typer.Argument(
        help="JSONL datasets (or: export-feedback --out FILE.jsonl).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Report folder (or the export file).")] = Path("out"),
    compare_with: Annotated[Path | None, typer.Option("--compare", help="An earlier report.json to compare.")]
    = None,
    similarity: Annotated[bool, typer.Option(help="Score similarity to references with ragas.")] = True,
    flow: Annotated[str | None, typer.Option("--flow", help="With export-feedback: only this flow's drafts, "
                                             "to keep as knowledge/flows/<flow>.examples.jsonl.")] = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Run every case of the datasets, write report.json and report.html, fail under the thresholds."""
    from evals.runner import check_thresholds, compare, run_eval

    copilot = build(knowledge, index)
    copilot.warm_up()
    if datasets and datasets[0] == "export-feedback":
        _export_feedback(copilot, out_dir, flow)
        return
    paths = [Path(d) for d in datasets]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise InvalidRequestError(f"dataset not found: {', '.join(missing)}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("eval", total=None)
        report = run_eval(copilot, paths, lambda kind, done, total: bar.update(
            task, description=kind, completed=done, total=total), similarity)
    failures = check_thresholds(report, paths)
    comparison = compare(report, compare_with) if compare_with else None
    _write_report(report, comparison, out_dir)
    _print_eval(report, comparison)
    out.print(f"{len(report.cases)} cases in {report.seconds:.1f}s; report: {out_dir / 'report.html'}")
    if failures:
        for failure in failures:
            err.print(f"[bold red]under threshold:[/] {failure}", highlight=False)
        raise typer.Exit(1)


def _export_feedback(copilot: Copilot, out_dir: Path, flow: str | None) -> None:
    from evals.feedback_export import export_feedback

    target = out_dir if out_dir.suffix == ".jsonl" else out_dir / "feedback.jsonl"
    if flow is not None and flow not in copilot.knowledge.flows:
        known = ", ".join(sorted(copilot.knowledge.flows))
        raise InvalidRequestError(f"unknown flow '{flow}'; known: {known}")
    out.print(f"Exported {export_feedback(copilot.feedback, target, flow)} reference cases to {target}")


def _write_report(report: EvalReport, comparison: dict[str, Any] | None, out_dir: Path) -> None:
    from evals.html_report import render

    out_dir.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    if comparison:
        data["comparison"] = {"metrics": comparison["metrics"],
                              "worse": [c["id"] for c in comparison["worse"]],
                              "better": [c["id"] for c in comparison["better"]],
                              "changed_evaluators": comparison["changed_evaluators"]}
    (out_dir / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "report.html").write_text(render(data, comparison), encoding="utf-8")


def _print_eval(report: EvalReport, comparison: dict[str, Any] | None) -> None:
    table = Table(title="Evaluation")
    for column in ("metric", "value", "change"):
        table.add_column(column)
    for name, value in report.metrics.items():
        change = ""
        if comparison and comparison["metrics"][name]["delta"] is not None:
            change = f"{comparison['metrics'][name]['delta']:+.3f}"
        table.add_row(name, f"{value:.3f}", change)
    out.print(table)
    if comparison:
        for label in ("worse", "better"):
            for case in comparison[label]:
                out.print(f"  {label}: {case['kind']} {case['id']}", highlight=False)
        if comparison["changed_evaluators"]:
            out.print(f"  changed since the compared report (their metrics do not compare): "
                      f"{', '.join(comparison['changed_evaluators'])}", highlight=False)
    if not os.environ.get("COPILOT_JUDGE_BASE_URL"):
        out.print("LLM-judged metrics (ragas Faithfulness, ResponseRelevancy, AspectCritic) skipped: no "
                  "judge endpoint (COPILOT_JUDGE_BASE_URL, COPILOT_JUDGE_MODEL).", highlight=False)


@app.command("compare-retrieval", rich_help_panel=PANEL)
@friendly_errors
def compare_retrieval(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their retrieval cases are used.")],
    show_misses: Annotated[bool, typer.Option(help="List hybrid cases whose answer is not in the top 3.")]
    = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Score dense-only, BM25-only and hybrid retrieval on labelled queries (hit@1/3/5, MRR)."""
    from evals.retrieval import breakdown, load_retrieval_cases, score_cases

    copilot = build(knowledge, index)
    known = {document.id for document in copilot.knowledge.documents}
    cases = load_retrieval_cases(datasets, known)
    table = Table(title=f"Retrieval on {len(cases)} labelled queries (document level)")
    for column in ("mode", "hit@1", "hit@3", "hit@5", "MRR", "hit@3 by tag"):
        table.add_column(column)
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        scores = results[mode] = score_cases(copilot, cases, mode)
        row = scores.as_row()
        tags = ", ".join(f"{tag} {value:.2f}" for tag, value in sorted(breakdown(cases, scores).items()))
        table.add_row(mode, *(f"{row[key]:.3f}" for key in ("hit@1", "hit@3", "hit@5", "mrr")), tags)
    out.print(table)
    if show_misses:
        for case in cases:
            rank = results["hybrid"].ranks[case.id]
            if rank is None or rank > 3:
                out.print(f"  miss {case.id} (rank {rank}): {case.input['q']!r} -> "
                          f"{', '.join(case.expected['ids'])}")


@app.command("draft-report", rich_help_panel=PANEL)
@friendly_errors
def draft_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their draft cases are used.")],
    show_misses: Annotated[bool, typer.Option(help="List the cases whose step is wrong.")] = False,
    similarity: Annotated[bool, typer.Option(help="Score similarity to the reference with ragas.")] = True,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Step accuracy, review asks, citations, guardrails and similarity of drafts on reference transcripts."""
    from evals.datasets import Known, load_cases
    from evals.drafts import DraftChecks, DraftTask, RagasSimilarity, breakdown
    from evals.evaluators import Evaluator, means, score

    copilot = build(knowledge, index)
    cases = load_cases(datasets, Known.of(copilot), "draft")
    evaluators: list[Evaluator[Any, Any]] = [DraftChecks(copilot.guardrails, copilot.knowledge.slot_words)]
    results = score(DraftTask(copilot, evaluators + ([RagasSimilarity()] if similarity else [])), cases)
    table = Table(title=f"Drafts on {len(cases)} reference cases")
    table.add_column("metric")
    table.add_column("value")
    for name, value in means(results).items():
        table.add_row(name, f"{value:.3f}")
    out.print(table)
    for key in ("step", "platform", "language"):
        groups = breakdown(results, "step_accuracy", key)
        parts = ", ".join(f"{label} {value:.2f}" for label, value in groups.items())
        out.print(f"step accuracy by {key}: {parts}", highlight=False)
    if show_misses:
        for result in results:
            if min(result.scores.get("step_accuracy", 1.0), result.scores.get("guardrails_pass", 1.0)) < 1.0:
                case, response = result.case, result.output
                out.print(f"  {case.id}: expected {case.expected.get('step')} got {response.step} (done "
                          f"{response.steps_done}) allowed {response.guardrails.allowed}: "
                          f"{case.input.messages[-1].text!r}", highlight=False, markup=False)


@app.command("answer-report", rich_help_panel=PANEL)
@friendly_errors
def answer_report(
    datasets: Annotated[list[Path] | None, typer.Argument(help="Draft datasets with `answerable` cases.")]
    = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds over the answer examples.")] = 5,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """The answer threshold's trade-off: answer rate against wrong-answer rate, on the answer examples
    (cross-validated: the threshold is chosen there) and on the given draft datasets (measured only)."""
    from evals.answers import cross_validated, on_datasets, trade_offs

    copilot = build(knowledge, index)
    sources = [("answer examples, cross-validated", cross_validated(copilot, folds))]
    if datasets:
        sources.append((", ".join(path.name for path in datasets), on_datasets(copilot, datasets)))
    for title, picks in sources:
        threshold = copilot.understander.config.threshold
        table = Table(title=f"{title}: {len(picks)} cases (threshold now {threshold})")
        for column in ("threshold", "answered", "wrong", "right"):
            table.add_column(column)
        for row in trade_offs(picks):
            table.add_row(f"{row.threshold:.2f}", f"{row.answer_rate:.3f}", f"{row.wrong_rate:.3f}",
                          f"{row.right_rate:.3f}")
        out.print(table)


@app.command("triage-report", rich_help_panel=PANEL)
@friendly_errors
def triage_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their triage cases are used.")],
    show_mistakes: Annotated[bool, typer.Option(help="List the cases with a wrong field.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Accuracy of every triage field on labelled conversations, and the calibration of its confidence."""
    from evals.datasets import Known, load_cases
    from evals.evaluators import means, score
    from evals.triage import TriageTask, calibration, confidences, handoffs, mistakes

    copilot = build(knowledge, index)
    results = score(TriageTask(copilot), load_cases(datasets, Known(), "triage"))
    table = Table(title=f"Triage on {len(results)} labelled conversations")
    table.add_column("field")
    table.add_column("accuracy")
    for name, value in means(results).items():
        table.add_row(name, f"{value:.3f}")
    handoff = handoffs(results)
    table.add_row("handoff precision", f"{handoff.precision:.3f}")
    table.add_row("handoff recall", f"{handoff.recall:.3f}")
    table.add_row(f"handoff recall, legal/fraud/security ({handoff.safety_cases})",
                  f"{handoff.safety_recall:.3f}")
    out.print(table)
    error, reliability = calibration(confidences(results))
    bins = ", ".join(f"{label}: n={n} conf {c:.2f} acc {a:.2f}" for label, n, c, a in reliability)
    out.print(f"intent confidence calibration error (ECE): {error:.3f}; {bins}", highlight=False)
    if show_mistakes:
        for result in results:
            request, wrong = result.case.input, mistakes(result)
            if wrong:
                out.print(f"  {result.case.id} [{request.platform}/{request.customer.tier}] "
                          f"{'; '.join(wrong)}: {request.messages[-1].text!r}", highlight=False, markup=False)


@app.command("intent-report", rich_help_panel=PANEL)
@friendly_errors
def intent_report(
    clinc: Annotated[Path, typer.Option(help="The CLINC150 folder (data_full.json, data_small.json).")]
    = Path("../shared/datasets/clinc150"),
    shots: Annotated[str, typer.Option(help="Examples per intent, comma-separated (10, 50, 100).")]
    = "10,50,100",
    banking: Annotated[Path | None, typer.Option(
        help="Read BANKING77's test split instead (the folder of its test.csv, e.g. "
             "evals/datasets/banking77): the first 10 and 20 queries per intent are the examples, the last "
             "20 the test.")] = None,
    index: IndexOpt = None,
) -> None:
    """The need model on CLINC150: in-scope accuracy and out-of-scope recall, threshold chosen on validation
    (or, with --banking, intent accuracy on BANKING77's real bank customer queries)."""
    from evals.intents import REJECTS, clinc_rows

    if banking is not None:
        _banking_report(banking, index)
        return
    counts = tuple(int(part) for part in shots.split(",") if part.strip().isdigit())
    if not counts or any(count not in (10, 50, 100) for count in counts):
        raise InvalidRequestError(f"--shots takes 10, 50 and 100, comma-separated; got '{shots}'")
    copilot = build(None, index)
    rows = clinc_rows(clinc, copilot.index.embedder, copilot.settings.index_dir / "clinc150", counts)
    table = Table(title=f"CLINC150, threshold: {REJECTS:.0%} of validation in-scope queries rejected")
    for column in ("examples per intent", "fit s", "threshold", "val accuracy", "val in-scope / OOS recall",
                   "test accuracy", "test in-scope / OOS recall"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row.shots), f"{row.fit_seconds}", f"{row.threshold:.3f}", f"{row.val[0]:.3f}",
                      f"{row.val[1]:.3f} / {row.val[2]:.3f}", f"{row.test[0]:.3f}",
                      f"{row.test[1]:.3f} / {row.test[2]:.3f}")
    out.print(table)


def _banking_report(folder: Path, index: Path | None) -> None:
    from evals.intents import banking_rows

    copilot = build(None, index)
    rows = banking_rows(folder, copilot.index.embedder, copilot.settings.index_dir / "banking77")
    table = Table(title="BANKING77 test split: the first N queries per intent are the examples, the last 20 "
                        "the test")
    for column in ("examples per intent", "examples (with the names)", "fit s", "test queries",
                   "intent accuracy"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row.shots), str(row.examples), f"{row.fit_seconds}", str(row.test_queries),
                      f"{row.accuracy:.3f}")
    out.print(table)


@app.command("guardrail-report", rich_help_panel=PANEL)
@friendly_errors
def guardrail_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their guardrail cases are used.")],
    show_mistakes: Annotated[bool, typer.Option(help="List the cases the rules got wrong.")] = False,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Precision and recall of every guardrail rule on labelled replies."""
    from copilot.guardrails.engine import GuardrailEngine
    from copilot.knowledge import KnowledgeBase
    from evals.datasets import Known, load_cases
    from evals.evaluators import means, score
    from evals.guardrails import GuardrailTask, rule_scores

    settings = Settings.load(knowledge_dir=knowledge)
    engine = GuardrailEngine.from_knowledge(KnowledgeBase.load(settings.knowledge_dir))
    rule_ids = [rule.spec.id for rule in engine.rules]
    task = GuardrailTask(engine)
    results = score(task, load_cases(datasets, Known(rules=frozenset(rule_ids)), "guardrail"))
    table = Table(title=f"Guardrails on {len(results)} labelled replies; allowed/blocked right: "
                        f"{means(results).get('allowed_accuracy', 1.0):.3f}")
    for column in ("rule", "precision", "recall", "TP", "FP", "FN"):
        table.add_column(column)
    for rule_id, counts in rule_scores(rule_ids, results).items():
        table.add_row(rule_id, f"{counts.precision:.3f}", f"{counts.recall:.3f}", str(counts.true_positives),
                      str(counts.false_positives), str(counts.false_negatives))
    out.print(table)
    if show_mistakes:
        for result in results:
            row = task.row(result)
            if not row["passed"]:
                out.print(f"  {result.case.id} [{row['platform']}/{row['step']}] expected {row['expected']} "
                          f"got {row['got']}: {row['text']}", highlight=False, markup=False)
