"""Serving and one-off calls: ingest, search, check, draft, triage, serve."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from copilot.cli.common import (
    LOOPBACK,
    IndexOpt,
    KnowledgeOpt,
    app,
    build,
    err,
    friendly_errors,
    out,
    respond,
)
from copilot.contracts import DraftRequest, GuardrailRequest
from copilot.errors import CopilotError
from copilot.settings import Settings

PANEL = "Serve and call"  # where `copilot --help` lists these commands


@app.command(rich_help_panel=PANEL)
@friendly_errors
def ingest(knowledge: KnowledgeOpt = None, index: IndexOpt = None) -> None:
    """Validate the knowledge folder and bring the search index up to date (only changes are embedded)."""
    copilot = build(knowledge, index)
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("embed", total=None)
        report = copilot.ingest(progress=lambda done, total: bar.update(task, completed=done, total=total))
    out.print(
        f"Indexed {report.documents} documents ({report.chunks} chunks) from "
        f"{copilot.settings.knowledge_dir} in {report.seconds:.1f}s: {len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.removed)} removed, {report.unchanged} unchanged; "
        f"{report.embedded_chunks} chunks embedded.",
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


@app.command(rich_help_panel=PANEL)
@friendly_errors
def search(
    query: Annotated[
        str, typer.Argument(help="What to look for, in English or Vietnamese (accents optional).")
    ],
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
    hits = copilot.search(query, k=k, mode=mode, per_document=per_doc, platform=platform, kind=kind,
                          step=step, language=language)
    if as_json:
        rows = [{"id": h.chunk.doc_id, "title": h.chunk.title, "section": h.chunk.section,
                 "kind": h.chunk.kind, "score": h.score, "text": h.chunk.text} for h in hits]
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


@app.command(rich_help_panel=PANEL)
@friendly_errors
def check(
    source: Annotated[Path, typer.Argument(help="A /v1/guardrails/check request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Check a reply against the platform and flow rules; prints the verdict as JSON."""
    copilot = build(knowledge, index)
    respond(source, GuardrailRequest, copilot.check)


@app.command(rich_help_panel=PANEL)
@friendly_errors
def draft(
    source: Annotated[Path, typer.Argument(help="A /v1/drafts request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """Propose the agent's next reply for a conversation; prints the response JSON."""
    copilot = build(knowledge, index)
    respond(source, DraftRequest, copilot.draft)


@app.command(rich_help_panel=PANEL)
@friendly_errors
def triage(
    source: Annotated[Path, typer.Argument(help="A /v1/triage request as JSON, or - for stdin.")],
    knowledge: KnowledgeOpt = None,
    index: IndexOpt = None,
) -> None:
    """First-line triage of a conversation: urgency, type, route, SLA, and an answer or a handoff."""
    from copilot.triage.contracts import TriageRequest

    copilot = build(knowledge, index)
    respond(source, TriageRequest, copilot.triage)


@app.command(rich_help_panel=PANEL)
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
