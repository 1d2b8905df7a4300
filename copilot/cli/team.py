"""The team lead's commands: QA of finished conversations, importing a week, the weekly review, the bench."""

from __future__ import annotations

import json
import time
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
    print_json,
)
from copilot.errors import InvalidRequestError

if TYPE_CHECKING:
    from bench import BenchConfig
    from copilot.core import Copilot

PANEL = "Team lead"  # where `copilot --help` lists these commands


@app.command(rich_help_panel=PANEL)
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
    reviews = [review_conversation(t, copilot.drafter.tracker(copilot.knowledge.flows[t.flow]),
                                   copilot.guardrails, weights) for t in items]
    if as_json:
        print_json({"summary": summarise(reviews, steps_of(items, copilot.knowledge)),
                    "conversations": [_review_json(r) for r in reviews]})
        return
    table = Table(title=f"QA of {len(reviews)} conversations")
    columns = ("conversation", "score", "steps covered", "missing", "in order", "review ask", "violations")
    for column in columns:
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
        "steps_missing": review.steps_missing, "in_order": review.in_order,
        "review_asked": review.review_asked,
        "messages": [
            {"index": m.index, "steps": m.steps, "violations": [v.model_dump() for v in m.violations]}
            for m in review.messages
        ],
    }


@app.command(rich_help_panel=PANEL)
@friendly_errors
def bench(
    quick: Annotated[bool, typer.Option(help="Fewer samples, 1k and 10k chunks, a 30 s load test.")] = False,
    load_seconds: Annotated[
        float | None, typer.Option(min=1, help="Length of the load test (default 120, 30 with --quick).")
    ] = None,
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the results.")
    ] = Path("BENCHMARKS.md"),
    datasets: Annotated[
        Path, typer.Option(help="Folder with the evaluation datasets.")
    ] = Path("evals/datasets"),
    review_week: Annotated[bool, typer.Option("--review", help=(
        "Only the weekly review at scale: a synthetic week imported and reviewed on SQLite and PostgreSQL."
    ))] = False,
    conversations: Annotated[
        int, typer.Option(min=10, max=1_000_000, help="Conversations of that week.")
    ] = 100_000,
    steps: Annotated[bool, typer.Option("--steps", help=(
        "Only the step model's cost: locating the next step of a star-dev flow with and without its labelled "
        "conversations."
    ))] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure drafts (in-process and over HTTP), search at 1k-100k chunks, ingest, overhead in front of an
    LLM, cold start, memory and a load test on this machine, and write BENCHMARKS.md. With --review: the
    weekly review's import and queries at 100,000 conversations, written into its section of BENCHMARKS.md."""
    if steps:
        _bench_steps(build(knowledge, index), out_file)
    elif review_week:
        _bench_review(build(knowledge, index), conversations, out_file)
    else:
        from bench import BenchConfig

        _bench_all(knowledge, index, datasets, BenchConfig.for_run(quick, load_seconds), out_file)


def _bench_progress(message: str) -> None:
    """A bench's progress goes to stderr, so that stdout carries only the report."""
    err.print(f"bench: {message}", highlight=False)


def _bench_steps(copilot: Copilot, out_file: Path) -> None:
    """The step model's cost, written into its section of `out_file`."""
    import tempfile

    from bench.review_bench import write_section
    from bench.steps import BEGIN, END, run_step_bench, run_step_http, step_markdown
    from evals.steps import STAR_DEV

    copilot.ingest()
    cost = run_step_bench(copilot.index.embedder, STAR_DEV, _bench_progress)
    with tempfile.TemporaryDirectory(prefix="copilot-step-bench-") as workdir:
        cost.http = run_step_http(STAR_DEV, copilot.settings.knowledge_dir, copilot.settings.index_dir,
                                  Path(workdir), _bench_progress)
    section = step_markdown(cost)
    write_section(out_file, section, BEGIN, END)
    out.print(section, highlight=False, markup=False)


def _bench_review(copilot: Copilot, conversations: int, out_file: Path) -> None:
    """The weekly review at scale (on PostgreSQL too when the copilot's database is one), written into its
    section of `out_file`."""
    import tempfile

    from bench.review_bench import review_markdown, run_review_bench, write_section

    database_url = copilot.settings.database_url
    postgres = database_url if database_url.startswith("postgres") else None
    with tempfile.TemporaryDirectory(prefix="copilot-review-bench-") as workdir:
        measured = run_review_bench(copilot, conversations, Path(workdir), _bench_progress, postgres)
    section = review_markdown(measured)
    write_section(out_file, section)
    out.print(section, highlight=False, markup=False)


def _bench_all(knowledge: Path | None, index: Path | None, datasets: Path, config: BenchConfig,
               out_file: Path) -> None:
    """The whole bench into `out_file`, keeping the review's and the step model's sections already there."""
    import tempfile

    from bench import markdown, run_bench
    from bench import steps as step_bench
    from bench.review_bench import kept_section
    from bench.workload import Workload

    started = time.perf_counter()
    workload = Workload.load(datasets)
    copilot = build(knowledge, index)
    copilot.warm_up()
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as workdir:
        results = run_bench(copilot, config, datasets, Path(workdir), _bench_progress, workload)
    results.seconds = round(time.perf_counter() - started, 1)
    sections = (kept_section(out_file), kept_section(out_file, step_bench.BEGIN, step_bench.END))
    report = markdown(results) + "".join("\n" + section for section in sections if section)
    out_file.write_text(report, encoding="utf-8")
    out.print(report, highlight=False, markup=False)


@app.command("import", rich_help_panel=PANEL)
@friendly_errors
def import_conversations(
    source: Annotated[Path, typer.Argument(help="JSONL: one conversation a line, every message with `at`.")],
    origin: Annotated[str, typer.Option("--source", help="Where the conversations come from (their ids are "
                                        "unique there).")] = "import",
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Store exported conversations for the weekly review: the whole file is checked first (a bad line is
    named by file:line and field, and nothing is stored); a conversation already stored the same is not
    stored again."""
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


@app.command(rich_help_panel=PANEL)
@friendly_errors
def review(
    since: Annotated[str, typer.Option(help="7d (the days ending on --until) or a date YYYY-MM-DD.")] = "7d",
    until: Annotated[str | None, typer.Option(help="The last day, YYYY-MM-DD (default: today).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (a platform).")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's conversations.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help=(
        "Write review.html (one page, charts inline, no network) and review.json there."
    ))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole review as JSON.")] = False,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """The team lead's weekly review of the stored conversations: service numbers, flow compliance, returns
    and refunds by reason, knowledge gaps, and the conversations to act on."""
    copilot = build(knowledge, index)
    data = copilot.weekly_review(since, until, channel, agent)
    if as_json:
        print_json(data)
    else:
        _print_review(data, copilot.channel_titles)
    if out_dir is not None:
        from api.routers.sidebar import STATIC
        from copilot.review.html import page

        styles = "\n".join((STATIC / name).read_text(encoding="utf-8")
                           for name in ("sidebar.css", "review.css"))
        out_dir.mkdir(parents=True, exist_ok=True)
        html = page(data, copilot.review_config, copilot.channel_titles, styles)
        (out_dir / "review.html").write_text(html, encoding="utf-8")
        (out_dir / "review.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        err.print(f"Review written to {out_dir / 'review.html'}", highlight=False)


def _print_review(data: dict[str, Any], titles: dict[str, str]) -> None:
    period = data["period"]
    out.print(f"Weekly review {period['since']} to {period['until']} (lists as of {period['as_of']})",
              highlight=False)
    if data["team"] is None:
        latest = data.get("latest_day")
        note = f"; the latest stored conversation is on {latest}" if latest else ""
        out.print(f"No conversation started in this period{note}.", highlight=False)
        return
    out.print(_service_table(data, titles))
    for agent in data["agents"]:
        rules = ", ".join(f"{rule} {n}" for rule, n in agent["violations"].items()) or "none"
        out.print(f"  {agent['agent']}: {agent['finished']} finished, steps {agent['steps_covered']:.0%}, "
                  f"in order {agent['in_order']:.0%}, review asked {agent['review_asked']:.0%}; "
                  f"violations: {rules}", highlight=False)
    orders = ", ".join(f"{intent} {n}" for intent, n in data["orders"]["by_intent"].items()) or "none"
    reasons = ", ".join(f"{reason} {n}" for reason, n in data["orders"]["reasons"].items()) or "none"
    gaps = data["knowledge_gaps"]
    out.print(f"Returns, refunds, exchanges, cancellations: {orders}; reasons: {reasons}", highlight=False)
    out.print(f"Unanswered past the service level: {data['unanswered']['total']}; broken promises: "
              f"{data['broken_promises']['total']}; complaints not solved at once: "
              f"{data['complaints']['not_solved_at_once']}; knowledge gaps: {gaps['questions']} questions in "
              f"{gaps['group_count']} groups", highlight=False)


def _service_table(data: dict[str, Any], titles: dict[str, str]) -> Table:
    """The service numbers of the team, then of each channel (named by its title)."""
    table = Table()
    columns = ("", "conversations", "response rate", f"days >= {data['target']:.0%}",
               "first response p50/p90", "unanswered", "waiting past SLA", "broken promises", "reviews +/-")
    for column in columns:
        table.add_column(column)
    days = len(data["period"]["days"])
    rows = [("team", data["team"])] + [(titles.get(c["channel"], c["channel"]), c) for c in data["channels"]]
    for name, row in rows:
        rate = f"{row['response_rate']:.0%}" if row["response_rate"] is not None else "-"
        first = row["first_response_minutes"]
        times = f"{first.get('p50', '-')} / {first.get('p90', '-')} min" if first else "-"
        table.add_row(name, str(row["conversations"]), rate, f"{row['days_at_target']}/{days}", times,
                      str(row["unanswered"]),
                      str(row["waiting_past_service_level"]), str(row["broken_promises"]),
                      f"{row['reviews']['positive']}/{row['reviews']['negative']}")
    return table
