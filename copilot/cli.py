"""The `copilot` command: each command is a thin call into the library."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from copilot.contracts import DraftRequest, GuardrailRequest, parse_request
from copilot.core import Copilot
from copilot.errors import CopilotError, InvalidRequestError
from copilot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Support copilot command line.")
out = Console()
err = Console(stderr=True)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
KnowledgeOpt = Annotated[Path | None, typer.Option("--knowledge", help="Knowledge folder (default: knowledge/).")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder (default: .copilot/index).")]
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(command: F) -> F:
    """Print a CopilotError as one clear line and exit 2, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CopilotError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def build(knowledge: Path | None, index: Path | None) -> Copilot:
    return Copilot(Settings.load(knowledge_dir=knowledge, index_dir=index))


@app.command()
@friendly_errors
def ingest(knowledge: KnowledgeOpt = None, index: IndexOpt = None) -> None:
    """Validate the knowledge folder and bring the search index up to date (only changes are embedded)."""
    copilot = build(knowledge, index)
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("embed", total=None)
        report = copilot.ingest(progress=lambda done, total: bar.update(task, completed=done, total=total))
    out.print(
        f"Indexed {report.documents} documents ({report.chunks} chunks) from {copilot.settings.knowledge_dir} "
        f"in {report.seconds:.1f}s: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged; {report.embedded_chunks} chunks embedded.",
        highlight=False,
    )
    for label, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        if ids:
            out.print(f"  {label}: {', '.join(ids)}", highlight=False)
    started = time.perf_counter()
    copilot.prepare_triage()
    if copilot.triage_ready and (copilot.knowledge.root / "triage.yaml").exists():
        out.print(f"Triage model ready in {time.perf_counter() - started:.1f}s (kept in the index folder).",
                  highlight=False)


@app.command()
@friendly_errors
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in English or Vietnamese (accents optional).")],
    platform: Annotated[str | None, typer.Option(help="Only documents for this platform.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind: playbook, policy, macro, faq...")] = None,
    step: Annotated[str | None, typer.Option(help="Only documents for this flow step.")] = None,
    language: Annotated[str | None, typer.Option(help="Only documents in this language (en, vi).")] = None,
    k: Annotated[int, typer.Option("--k", help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    per_doc: Annotated[int, typer.Option("--per-doc", help="At most this many passages per document.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Search the knowledge base: ranked passages with score, document id and section."""
    copilot = build(knowledge, index)
    hits = copilot.search(
        query, k=k, mode=mode, per_document=per_doc, platform=platform, kind=kind, step=step, language=language
    )
    if as_json:
        rows = [{"id": h.chunk.doc_id, "title": h.chunk.title, "section": h.chunk.section, "kind": h.chunk.kind,
                 "score": h.score, "text": h.chunk.text} for h in hits]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not hits:
        out.print("No matching passage.")
        return
    for rank, hit in enumerate(hits, start=1):
        heading = f"[bold]{rank}. {hit.chunk.doc_id}[/] [dim]({hit.chunk.kind})[/]  score {hit.score:.2f}"
        out.print(heading, highlight=False)
        out.print(f"   § {hit.chunk.section}  —  {hit.chunk.title}", highlight=False)
        out.print(f"   {' '.join(hit.chunk.text.split())[:220]}", highlight=False, soft_wrap=True)


@app.command("eval")
@friendly_errors
def evaluate(
    datasets: Annotated[list[str], typer.Argument(help="JSONL datasets (or: export-feedback --out FILE.jsonl).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Report folder (or the export file).")] = Path("out"),
    compare_with: Annotated[Path | None, typer.Option("--compare", help="An earlier report.json to compare.")] = None,
    similarity: Annotated[bool, typer.Option(help="Score similarity to references with ragas.")] = True,
    flow: Annotated[str | None, typer.Option("--flow", help="With export-feedback: only this flow's drafts, to keep "
                                             "as knowledge/flows/<flow>.examples.jsonl.")] = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Run every case of the datasets, write report.json and report.html, fail under the thresholds."""
    from evals.html_report import render
    from evals.runner import check_thresholds, compare, run_eval

    copilot = build(knowledge, index)
    copilot.warm_up()
    if datasets and datasets[0] == "export-feedback":
        from evals.feedback_export import export_feedback

        target = out_dir if out_dir.suffix == ".jsonl" else out_dir / "feedback.jsonl"
        if flow is not None and flow not in copilot.knowledge.flows:
            raise InvalidRequestError(f"unknown flow '{flow}'; known: {', '.join(sorted(copilot.knowledge.flows))}")
        out.print(f"Exported {export_feedback(copilot.feedback, target, flow)} reference cases to {target}")
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
    out_dir.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    if comparison:
        data["comparison"] = {"metrics": comparison["metrics"], "worse": [c["id"] for c in comparison["worse"]],
                              "better": [c["id"] for c in comparison["better"]]}
    (out_dir / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "report.html").write_text(render(data, comparison), encoding="utf-8")
    _print_eval(report, comparison)
    if not os.environ.get("COPILOT_JUDGE_BASE_URL"):
        out.print("LLM-judged metrics (ragas Faithfulness, ResponseRelevancy, AspectCritic) skipped: no judge "
                  "endpoint (COPILOT_JUDGE_BASE_URL, COPILOT_JUDGE_MODEL).", highlight=False)
    out.print(f"{len(report.cases)} cases in {report.seconds:.1f}s; report: {out_dir / 'report.html'}")
    if failures:
        for failure in failures:
            err.print(f"[bold red]under threshold:[/] {failure}", highlight=False)
        raise typer.Exit(1)


def _print_eval(report: Any, comparison: dict[str, Any] | None) -> None:
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


@app.command("compare-retrieval")
@friendly_errors
def compare_retrieval(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their retrieval cases are used.")],
    show_misses: Annotated[bool, typer.Option(help="List hybrid cases whose answer is not in the top 3.")] = False,
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
                out.print(f"  miss {case.id} (rank {rank}): {case.query!r} -> {', '.join(case.expected_ids)}")


def read_request(source: Path) -> object:
    """The JSON request in `source` (a file, or `-` for standard input)."""
    try:
        text = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(f"{source}: cannot be read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def respond(source: Path, model: type[BaseModel], handler: Callable[[Any], BaseModel]) -> None:
    """Read a request of the contract from `source`, run it, print the response JSON."""
    print_json(handler(parse_request(model, read_request(source))).model_dump(mode="json"))


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
@friendly_errors
def check(
    source: Annotated[Path, typer.Argument(help="A /v1/guardrails/check request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Check a reply against the platform and flow rules; prints the verdict as JSON."""
    copilot = build(knowledge, index)
    respond(source, GuardrailRequest, copilot.check)


@app.command()
@friendly_errors
def draft(
    source: Annotated[Path, typer.Argument(help="A /v1/drafts request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Propose the agent's next reply for a conversation; prints the response JSON."""
    copilot = build(knowledge, index)
    respond(source, DraftRequest, copilot.draft)


@app.command()
@friendly_errors
def triage(
    source: Annotated[Path, typer.Argument(help="A /v1/triage request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """First-line triage of a conversation: urgency, type, route, SLA, and an answer or a handoff."""
    from copilot.triage.engine import TriageRequest

    copilot = build(knowledge, index)
    respond(source, TriageRequest, copilot.triage)


@app.command("draft-report")
@friendly_errors
def draft_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their draft cases are used.")],
    show_misses: Annotated[bool, typer.Option(help="List the cases whose step is wrong.")] = False,
    similarity: Annotated[bool, typer.Option(help="Score similarity to the reference with ragas.")] = True,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Step accuracy, review asks, citations, guardrails and similarity of drafts on reference transcripts."""
    from evals.drafts import averages, breakdown, load_draft_cases, ragas_similarity, score_draft

    copilot = build(knowledge, index)
    flows = {flow.id: flow.step_ids for flow in copilot.knowledge.flows.values()}
    cases = load_draft_cases(datasets, {d.id for d in copilot.knowledge.documents}, flows)
    scorer = ragas_similarity() if similarity else None
    outcomes = [score_draft(copilot, case, scorer) for case in cases]
    table = Table(title=f"Drafts on {len(cases)} reference cases")
    table.add_column("metric")
    table.add_column("value")
    for name, value in averages(outcomes).items():
        table.add_row(name, f"{value:.3f}")
    out.print(table)
    for key in ("step", "platform", "language"):
        parts = ", ".join(f"{label} {value:.2f}" for label, value in breakdown(outcomes, "step_accuracy", key).items())
        out.print(f"step accuracy by {key}: {parts}", highlight=False)
    if show_misses:
        for outcome in outcomes:
            if outcome.scores.get("step_accuracy", 1.0) < 1.0 or outcome.scores.get("guardrails_pass", 1.0) < 1.0:
                last = outcome.case.request.messages[-1].text
                out.print(f"  {outcome.case.id}: expected {outcome.case.expected.get('step')} got "
                          f"{outcome.response.step} (done {outcome.response.steps_done}) allowed "
                          f"{outcome.response.guardrails.allowed}: {last!r}", highlight=False, markup=False)


@app.command()
@friendly_errors
def qa(
    transcripts: Annotated[Path, typer.Argument(help="JSONL: one finished conversation per line.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every review as JSON.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Score human agents' conversations for flow compliance: steps, order, review ask, rule violations."""
    from copilot.qa import load_transcripts, review_conversation, steps_of, summarise
    from copilot.review.config import QAWeights

    copilot = build(knowledge, index)
    items = load_transcripts(transcripts, copilot.knowledge)
    weights = QAWeights.of(copilot.knowledge.root)
    reviews = [review_conversation(t, copilot.drafter.tracker(copilot.knowledge.flows[t.flow]), copilot.guardrails,
                                   weights) for t in items]
    if as_json:
        print_json({"summary": summarise(reviews, steps_of(items, copilot.knowledge)),
                    "conversations": [_review_json(r) for r in reviews]})
        return
    table = Table(title=f"QA of {len(reviews)} conversations")
    for column in ("conversation", "score", "steps covered", "missing", "in order", "review ask", "violations"):
        table.add_column(column, overflow="fold")
    for r in reviews:
        table.add_row(r.id, f"{r.score:.0f}", str(len(r.steps_covered)), ", ".join(r.steps_missing) or "-",
                      "yes" if r.in_order else "no", "yes" if r.review_asked else "NO",
                      ", ".join(sorted({v.rule for v in r.violations})) or "-")
    out.print(table)
    out.print(summarise(reviews, steps_of(items, copilot.knowledge)))


def _review_json(review: Any) -> dict[str, Any]:
    return {
        "id": review.id, "score": review.score, "steps_covered": review.steps_covered,
        "steps_missing": review.steps_missing, "in_order": review.in_order, "review_asked": review.review_asked,
        "messages": [{"index": m.index, "steps": m.steps, "violations": [v.model_dump() for v in m.violations]}
                     for m in review.messages],
    }


@app.command("answer-report")
@friendly_errors
def answer_report(
    datasets: Annotated[list[Path] | None, typer.Argument(help="Draft datasets with `answerable` cases.")] = None,
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
        table = Table(title=f"{title}: {len(picks)} cases (threshold now {copilot.understander.config.threshold})")
        for column in ("threshold", "answered", "wrong", "right"):
            table.add_column(column)
        for row in trade_offs(picks):
            table.add_row(f"{row.threshold:.2f}", f"{row.answer_rate:.3f}", f"{row.wrong_rate:.3f}",
                          f"{row.right_rate:.3f}")
        out.print(table)


@app.command("triage-report")
@friendly_errors
def triage_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their triage cases are used.")],
    show_mistakes: Annotated[bool, typer.Option(help="List the cases with a wrong field.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Accuracy of every triage field on labelled conversations, and the calibration of its confidence."""
    from evals.triage import load_triage_cases, score_triage

    copilot = build(knowledge, index)
    scores = score_triage(copilot, load_triage_cases(datasets))
    table = Table(title=f"Triage on {scores.cases} labelled conversations")
    table.add_column("field")
    table.add_column("accuracy")
    for name, value in scores.accuracy.items():
        table.add_row(name, f"{value:.3f}")
    table.add_row("handoff precision", f"{scores.handoff_precision:.3f}")
    table.add_row("handoff recall", f"{scores.handoff_recall:.3f}")
    safety = f"handoff recall, legal/fraud/security ({scores.safety_cases})"
    table.add_row(safety, f"{scores.safety_handoff_recall:.3f}")
    out.print(table)
    bins = ", ".join(f"{label}: n={n} conf {c:.2f} acc {a:.2f}" for label, n, c, a in scores.reliability)
    out.print(f"intent confidence calibration error (ECE): {scores.calibration_error:.3f}; {bins}", highlight=False)
    if show_mistakes:
        for case, _response, wrong in scores.mistakes:
            text = case.request.messages[-1].text
            out.print(f"  {case.id} [{case.request.platform}/{case.request.customer.tier}] {'; '.join(wrong)}: "
                      f"{text!r}", highlight=False, markup=False)


@app.command("intent-report")
@friendly_errors
def intent_report(
    clinc: Annotated[Path, typer.Option(help="The CLINC150 folder (data_full.json, data_small.json).")] = Path(
        "../shared/datasets/clinc150"),
    shots: Annotated[str, typer.Option(help="Examples per intent, comma-separated (10, 50, 100).")] = "10,50,100",
    banking: Annotated[Path | None, typer.Option(
        help="Read BANKING77's test split instead (the folder of its test.csv, e.g. evals/datasets/banking77): "
             "the first 10 and 20 queries per intent are the examples, the last 20 the test.")] = None,
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
    table = Table(title="BANKING77 test split: the first N queries per intent are the examples, the last 20 the test")
    for column in ("examples per intent", "examples (with the names)", "fit s", "test queries", "intent accuracy"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row.shots), str(row.examples), f"{row.fit_seconds}", str(row.test_queries),
                      f"{row.accuracy:.3f}")
    out.print(table)


@app.command("step-report")
@friendly_errors
def step_report(
    star: Annotated[Path | None, typer.Option(help="The star-dev folder (default: evals/datasets/star-dev).")] = None,
    limit: Annotated[int | None, typer.Option(help="Conversations per task (default: all).", min=1)] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the table as Markdown here too.")] = None,
    index: IndexOpt = None,
) -> None:
    """The step model on flows it has never seen: leave-one-domain-out over star-dev, per domain, next to the
    baselines, with 0, 20, 100 and 500 labelled conversations of the tested domain."""
    from evals.steps import STAR_DEV, markdown, read_star, report

    copilot = build(None, index)
    corpus = read_star(copilot.index.embedder, star or STAR_DEV, limit, progress=lambda line: err.print(line))
    table = markdown(report(corpus, progress=lambda line: err.print(line)))
    out.print(table, highlight=False, soft_wrap=True)
    if out_file is not None:
        out_file.write_text(table + "\n", encoding="utf-8")


@app.command("step-train")
@friendly_errors
def step_train(
    star: Annotated[Path | None, typer.Option(help="The star-dev folder (default: evals/datasets/star-dev).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where the weights go (default: the packaged file).")]
    = None,
    index: IndexOpt = None,
) -> None:
    """Fit the step model's weights on all of star-dev and write them (the packaged `copilot/step_model.json` is
    this command's output: run it again to rebuild the file)."""
    from copilot.flow.step_model import PACKAGED
    from evals.steps import STAR_DEV, read_star, train

    copilot = build(None, index)
    corpus = read_star(copilot.index.embedder, star or STAR_DEV, progress=lambda line: err.print(line))
    model = train(corpus, corpus.domains())
    model.save(out_file or PACKAGED)
    out.print(f"step model fitted on {len(corpus.moments)} moments of {len(corpus.domains())} domains: "
              f"{out_file or PACKAGED}")


@app.command("guardrail-report")
@friendly_errors
def guardrail_report(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL datasets; their guardrail cases are used.")],
    show_mistakes: Annotated[bool, typer.Option(help="List the cases the rules got wrong.")] = False,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Precision and recall of every guardrail rule on labelled replies."""
    from copilot.guardrails.engine import GuardrailEngine
    from copilot.knowledge import KnowledgeBase
    from evals.guardrails import load_guardrail_cases, score_guardrails

    engine = GuardrailEngine.from_knowledge(KnowledgeBase.load(Settings.load(knowledge_dir=knowledge).knowledge_dir))
    cases = load_guardrail_cases(datasets, {rule.spec.id for rule in engine.rules})
    scores = score_guardrails(engine, cases)
    table = Table(title=f"Guardrails on {len(cases)} labelled replies; allowed/blocked right: "
                        f"{scores.allowed_accuracy:.3f}")
    for column in ("rule", "precision", "recall", "TP", "FP", "FN"):
        table.add_column(column)
    for rule_id, score in scores.per_rule.items():
        table.add_row(rule_id, f"{score.precision:.3f}", f"{score.recall:.3f}", str(score.true_positives),
                      str(score.false_positives), str(score.false_negatives))
    out.print(table)
    if show_mistakes:
        for case, found in scores.mistakes:
            expected = sorted(case.expected_rules or [])
            out.print(f"  {case.id} [{case.request.get('platform')}/{case.request.get('step')}] expected {expected} "
                      f"got {found}: {case.text}", highlight=False, markup=False)


@app.command()
@friendly_errors
def bench(
    quick: Annotated[bool, typer.Option(help="Fewer samples, 1k and 10k chunks, a 30 s load test.")] = False,
    load_seconds: Annotated[
        float | None, typer.Option(min=1, help="Length of the load test (default 120, 30 with --quick).")
    ] = None,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the results.")] = Path("BENCHMARKS.md"),
    datasets: Annotated[Path, typer.Option(help="Folder with the evaluation datasets.")] = Path("evals/datasets"),
    review_week: Annotated[bool, typer.Option("--review", help="Only the weekly review at scale: a synthetic week "
                                              "imported and reviewed on SQLite and PostgreSQL.")] = False,
    conversations: Annotated[int, typer.Option(min=10, max=1_000_000, help="Conversations of that week.")] = 100_000,
    steps: Annotated[bool, typer.Option("--steps", help="Only the step model's cost: locating the next step of a "
                                        "star-dev flow with and without its labelled conversations.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure drafts (in-process and over HTTP), search at 1k-100k chunks, ingest, overhead in front of an LLM,
    cold start, memory and a load test on this machine, and write BENCHMARKS.md. With --review: the weekly
    review's import and queries at 100,000 conversations, written into its section of BENCHMARKS.md."""
    import tempfile
    import time

    from bench import BenchConfig, markdown, run_bench
    from bench.review_bench import kept_section, review_markdown, run_review_bench, write_section
    from bench.workload import Workload

    if steps:
        from bench.steps import BEGIN, END, run_step_bench, run_step_http, step_markdown
        from evals.steps import STAR_DEV

        copilot = build(knowledge, index)
        copilot.ingest()
        say = lambda message: err.print(f"bench: {message}", highlight=False)  # noqa: E731
        cost = run_step_bench(copilot.index.embedder, STAR_DEV, say)
        with tempfile.TemporaryDirectory(prefix="copilot-step-bench-") as workdir:
            cost.http = run_step_http(STAR_DEV, copilot.settings.knowledge_dir, copilot.settings.index_dir,
                                      Path(workdir), say)
        section = step_markdown(cost)
        write_section(out_file, section, BEGIN, END)
        out.print(section, highlight=False, markup=False)
        return
    if review_week:
        copilot = build(knowledge, index)
        with tempfile.TemporaryDirectory(prefix="copilot-review-bench-") as workdir:
            postgres = copilot.settings.database_url if copilot.settings.database_url.startswith("postgres") else None
            measured = run_review_bench(copilot, conversations, Path(workdir),
                                        lambda message: err.print(f"bench: {message}", highlight=False), postgres)
        section = review_markdown(measured)
        write_section(out_file, section)
        out.print(section, highlight=False, markup=False)
        return
    started = time.perf_counter()
    workload = Workload.load(datasets)
    copilot = build(knowledge, index)
    copilot.warm_up()
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as workdir:
        results = run_bench(copilot, BenchConfig.for_run(quick, load_seconds), datasets, Path(workdir),
                            lambda message: err.print(f"bench: {message}", highlight=False), workload)
    results.seconds = round(time.perf_counter() - started, 1)
    from bench import steps as step_bench

    kept = "".join("\n" + section for section in (kept_section(out_file),
                                                   kept_section(out_file, step_bench.BEGIN, step_bench.END)) if section)
    report = markdown(results) + kept
    out_file.write_text(report, encoding="utf-8")
    out.print(report, highlight=False, markup=False)


@app.command("import")
@friendly_errors
def import_conversations(
    source: Annotated[Path, typer.Argument(help="JSONL: one conversation a line, every message with `at`.")],
    origin: Annotated[str, typer.Option("--source", help="Where the conversations come from (their ids are "
                                        "unique there).")] = "import",
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Store exported conversations for the weekly review: the whole file is checked first (a bad line is named
    by file:line and field, and nothing is stored); a conversation already stored the same is not stored again."""
    if not source.is_file():
        raise InvalidRequestError(f"{source}: no such file")
    copilot = build(knowledge, index)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("import", total=None)
        report = copilot.importer.import_file(source, origin, lambda done, total: bar.update(
            task, completed=done, total=total))
    out.print(f"Imported {report.conversations} conversations from {source} in {report.seconds:.1f}s "
              f"({report.per_second:g} a second): {report.added} added, {report.replaced} replaced, "
              f"{report.unchanged} unchanged.", highlight=False)


@app.command()
@friendly_errors
def review(
    since: Annotated[str, typer.Option(help="7d (the days ending on --until) or a date YYYY-MM-DD.")] = "7d",
    until: Annotated[str | None, typer.Option(help="The last day, YYYY-MM-DD (default: today).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (a platform).")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's conversations.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write review.html (one page, charts inline, no "
                                                 "network) and review.json there.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole review as JSON.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """The team lead's weekly review of the stored conversations: service numbers, flow compliance, returns and
    refunds by reason, knowledge gaps, and the conversations to act on."""
    copilot = build(knowledge, index)
    data = copilot.weekly_review(since, until, channel, agent)
    if as_json:
        print_json(data)
    else:
        _print_review(data, copilot.channel_titles)
    if out_dir is not None:
        from api.routers.sidebar import STATIC
        from copilot.review.html import page

        styles = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in ("sidebar.css", "review.css"))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "review.html").write_text(page(data, copilot.review_config, copilot.channel_titles, styles),
                                             encoding="utf-8")
        (out_dir / "review.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        err.print(f"Review written to {out_dir / 'review.html'}", highlight=False)


def _print_review(data: dict[str, Any], titles: dict[str, str]) -> None:
    period = data["period"]
    out.print(f"Weekly review {period['since']} to {period['until']} (lists as of {period['as_of']})", highlight=False)
    if data["team"] is None:
        latest = f"; the latest stored conversation is on {data['latest_day']}" if data.get("latest_day") else ""
        out.print(f"No conversation started in this period{latest}.", highlight=False)
        return
    table = Table()
    for column in ("", "conversations", "response rate", f"days >= {data['target']:.0%}", "first response p50/p90",
                   "unanswered", "waiting past SLA", "broken promises", "reviews +/-"):
        table.add_column(column)
    days = len(period["days"])
    rows = [("team", data["team"])] + [(titles.get(c["channel"], c["channel"]), c) for c in data["channels"]]
    for name, row in rows:
        rate = f"{row['response_rate']:.0%}" if row["response_rate"] is not None else "-"
        first = row["first_response_minutes"]
        times = f"{first.get('p50', '-')} / {first.get('p90', '-')} min" if first else "-"
        table.add_row(name, str(row["conversations"]), rate, f"{row['days_at_target']}/{days}", times,
                      str(row["unanswered"]),
                      str(row["waiting_past_service_level"]), str(row["broken_promises"]),
                      f"{row['reviews']['positive']}/{row['reviews']['negative']}")
    out.print(table)
    for agent in data["agents"]:
        rules = ", ".join(f"{rule} {n}" for rule, n in agent["violations"].items()) or "none"
        out.print(f"  {agent['agent']}: {agent['finished']} finished, steps {agent['steps_covered']:.0%}, in order "
                  f"{agent['in_order']:.0%}, review asked {agent['review_asked']:.0%}; violations: {rules}",
                  highlight=False)
    orders = ", ".join(f"{intent} {n}" for intent, n in data["orders"]["by_intent"].items()) or "none"
    reasons = ", ".join(f"{reason} {n}" for reason, n in data["orders"]["reasons"].items()) or "none"
    gaps = data["knowledge_gaps"]
    out.print(f"Returns, refunds, exchanges, cancellations: {orders}; reasons: {reasons}", highlight=False)
    out.print(f"Unanswered past the service level: {data['unanswered']['total']}; broken promises: "
              f"{data['broken_promises']['total']}; complaints not solved at once: "
              f"{data['complaints']['not_solved_at_once']}; knowledge gaps: {gaps['questions']} questions in "
              f"{gaps['group_count']} groups", highlight=False)


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Run the HTTP API (and the agent sidebar) under uvicorn."""
    import uvicorn

    from api.main import create_app

    settings = Settings.load(knowledge_dir=knowledge, index_dir=index)
    if not settings.keys():
        if host not in LOOPBACK:
            raise CopilotError(f"no API keys are set, so the API only binds to loopback, not {host}: set "
                               "COPILOT_API_KEYS (or COPILOT_API_KEYS_FILE) to serve other machines")
        err.print("No API keys set (COPILOT_API_KEYS): serving on loopback only, without authentication.")
    err.print(f"Sidebar: http://{host}:{port}/sidebar   API docs: http://{host}:{port}/docs", highlight=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def main() -> None:
    app()
