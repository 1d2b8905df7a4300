"""The step model's commands: its report on flows it has never seen, and fitting its weights or a flow's own
taught models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from copilot.cli.common import IndexOpt, KnowledgeOpt, app, build, err, friendly_errors, out
from copilot.cli.reports import PANEL

StarOpt = Annotated[Path | None, typer.Option(help="The star-dev folder (default: evals/datasets/star-dev).")]


@app.command("step-report", rich_help_panel=PANEL)
@friendly_errors
def step_report(
    star: StarOpt = None,
    limit: Annotated[int | None, typer.Option(help="Conversations per task (default: all).", min=1)] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the table as Markdown here too.")]
    = None,
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


@app.command("step-train", rich_help_panel=PANEL)
@friendly_errors
def step_train(
    star: StarOpt = None,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Where the weights go (default: the packaged file).")] = None,
    flow: Annotated[str | None, typer.Option(
        help="Teach this flow's own models from its labelled conversations instead, and write them beside "
             "them (knowledge/flows/<flow>.fitted.npz), so that a start loads them.")] = None,
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Fit the step model's weights on all of star-dev and write them (the packaged `copilot/step_model.json`
    is this command's output: run it again to rebuild the file); with `--flow`, a flow's own taught models."""
    from copilot.flow.step_model import PACKAGED
    from evals.steps import STAR_DEV, read_star, train

    if flow is not None:
        _teach_flow(flow, out_file, knowledge, index)
        return
    copilot = build(None, index)
    corpus = read_star(copilot.index.embedder, star or STAR_DEV, progress=lambda line: err.print(line))
    model = train(corpus, corpus.domains())
    model.save(out_file or PACKAGED)
    out.print(f"step model fitted on {len(corpus.moments)} moments of {len(corpus.domains())} domains: "
              f"{out_file or PACKAGED}")


def _teach_flow(flow_id: str, out_file: Path | None, knowledge: Path | None, index: Path | None) -> None:
    from copilot.errors import InvalidRequestError
    from copilot.flow.fitted import FITTED_SUFFIX, taught_key, write_taught
    from copilot.flow.tracker import StepTracker

    copilot = build(knowledge, index)
    flows, examples = copilot.knowledge.flows, copilot.knowledge.examples.get(flow_id)
    if flow_id not in flows:
        raise InvalidRequestError(f"no flow '{flow_id}'; flows: {', '.join(sorted(flows))}")
    if not examples:
        raise InvalidRequestError(f"flow '{flow_id}' has no labelled conversations "
                                  f"(flows/{flow_id}.examples.jsonl)")
    embedder = copilot.index.embedder
    tracker = copilot.drafter.teach(StepTracker(flows[flow_id], embedder), examples)
    path = out_file or copilot.knowledge.root / "flows" / f"{flow_id}{FITTED_SUFFIX}"
    key = taught_key(flows[flow_id], examples, embedder.name, copilot.drafter.answer_step(flows[flow_id]))
    write_taught(tracker, path, key)
    out.print(f"taught {flow_id} from {len(examples.moments)} labelled moments: acts "
              f"{'learned' if tracker.acts else 'from the templates'}, next step "
              f"{'learned' if tracker.model else 'from the cues and graph'}, when a reply answers "
              f"{'learned' if tracker.answering else 'from the step'}, sentence acts "
              f"{'learned' if tracker.sentence_acts else 'not read'}: {path}")
