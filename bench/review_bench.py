"""`copilot bench --review`: a synthetic week of conversations (`bench.week`) imported and reviewed on SQLite
and on PostgreSQL, written into BENCHMARKS.md between markers (a full `copilot bench` keeps the section).

The analysis of a conversation (triage, QA, the clock) does not depend on the database: it is measured once,
and its results stored into each backend, whose storing is measured on its own; the import of a backend is the
two added. Importing the same file again (every conversation checked, none stored) is measured end to end.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from bench.week import write_week
from copilot.core import Copilot
from copilot.review.analysis import Analysed
from copilot.review.records import read_records
from copilot.review.store import ConversationStore
from copilot.settings import Settings
from copilot.store import Database

BEGIN, END = "<!-- review bench: copilot bench --review -->", "<!-- /review bench -->"
WEEK_END = date(2026, 11, 22)
Progress = Callable[[str], None]


@dataclass
class BackendRun:
    backend: str
    store_seconds: float
    reimport_seconds: float
    review_seconds: list[float] = field(default_factory=list)
    filtered_seconds: float = 0.0
    page_seconds: float = 0.0
    rows: int = 0


@dataclass
class ReviewBench:
    conversations: int
    messages: int
    generate_seconds: float
    analyse_seconds: float
    runs: list[BackendRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_average: tuple[float, float] = (0.0, 0.0)


def run_review_bench(copilot: Copilot, count: int, workdir: Path, progress: Progress,
                     postgres_url: str | None = None) -> ReviewBench:
    """Generate, analyse once, then per backend: store, import again, and review (three times, plus a filter
    and a later page of the lists)."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    path = workdir / "week.jsonl"
    write_week(path, count, WEEK_END)
    generated = time.perf_counter() - started
    progress(f"{count} conversations generated in {generated:.1f}s; analysing")
    records = [record for _, record in read_records(path)]
    importer = copilot.importer
    importer.analyser.triage.model.read("warm up")
    started = time.perf_counter()
    analysed: list[tuple[str, Analysed]] = []
    for batch in _batches(records, importer.batch):
        analysed += [(r.id, a) for r, a in zip(batch, importer.analyser.analyse([(r, ()) for r in batch]),
                                               strict=True)]
        if len(analysed) % (importer.batch * 40) < importer.batch:
            progress(f"analysed {len(analysed)} of {count}")
    bench = ReviewBench(count, sum(len(r.messages) for r in records), round(generated, 1),
                        round(time.perf_counter() - started, 1))
    backends: list[tuple[str, Any]] = [("SQLite", nullcontext(f"sqlite:///{workdir / 'review.sqlite3'}"))]
    if postgres_url:
        backends.append(("PostgreSQL", nullcontext(postgres_url)))
    else:
        try:
            from bench.pgserver import binaries

            binaries()
            backends.append(("PostgreSQL", _started_postgres()))
        except RuntimeError as exc:
            bench.notes.append(f"PostgreSQL not measured: {exc}")
    for name, context in backends:
        with context as url:
            progress(f"storing into {name}")
            bench.runs.append(_backend(copilot, name, url, path, analysed, workdir))
    bench.load_average = (round(load, 2), round(os.getloadavg()[0], 2))
    return bench


@contextmanager
def _started_postgres() -> Iterator[str]:
    from bench.pgserver import create_database, postgres_server

    with postgres_server() as server:
        yield create_database(server, "review_bench")


def _backend(copilot: Copilot, name: str, url: str, path: Path, analysed: list[tuple[str, Analysed]],
             workdir: Path) -> BackendRun:
    database = Database(url)
    store = ConversationStore(database)
    started = time.perf_counter()
    for batch in _batches(analysed, copilot.importer.batch):
        store.known("import", [external for external, _ in batch])
        store.save("import", batch)
    stored = time.perf_counter() - started
    settings = Settings(knowledge_dir=copilot.settings.knowledge_dir, index_dir=copilot.settings.index_dir,
                        data_dir=workdir / name.lower(), database_url=url)
    replica = Copilot(settings, embedder=copilot.index.embedder)
    started = time.perf_counter()
    report = replica.importer.import_file(path)
    reimport = time.perf_counter() - started
    assert report.unchanged == report.conversations, "a second import stored something"
    run = BackendRun(name, round(stored, 1), round(reimport, 1))
    for _ in range(3):
        started = time.perf_counter()
        review = replica.weekly_review("7d", WEEK_END.isoformat())
        run.review_seconds.append(round(time.perf_counter() - started, 3))
    run.rows = int(review["team"]["conversations"]) if review["team"] else 0
    started = time.perf_counter()
    replica.weekly_review("7d", WEEK_END.isoformat(), channel="shopee", agent="hoa")
    run.filtered_seconds = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    replica.weekly_review("7d", WEEK_END.isoformat(), page=20)
    run.page_seconds = round(time.perf_counter() - started, 3)
    replica.database.dispose()
    database.dispose()
    return run


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def review_markdown(bench: ReviewBench) -> str:
    per_second = bench.conversations / bench.analyse_seconds if bench.analyse_seconds else 0
    lines = [BEGIN, "## The weekly review at scale (`copilot bench --review`)", "",
             f"A synthetic week of {bench.conversations:,} conversations ({bench.messages:,} messages; "
             f"`bench/week.py`, generated in {bench.generate_seconds} s) on this machine, measured "
             f"{date.today().isoformat()}; load average {bench.load_average[0]} before and "
             f"{bench.load_average[1]} after, on 2 cores shared with other work.", "",
             "Analysis (local triage in batches, QA of the human agents' messages, the service-level clock; "
             f"the same for every backend): {bench.analyse_seconds:,} s, **{per_second:,.0f} conversations a "
             "second**. Most of it is the sentence embeddings of the customers' messages.", "",
             "| backend | storing s | import s (analysis + storing) | import conversations/s | second import "
             "(nothing new) s | review s (3 runs) | review, one channel and agent s | review, page 20 s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run in bench.runs:
        total = bench.analyse_seconds + run.store_seconds
        lines.append(f"| {run.backend} | {run.store_seconds} | {total:,.1f} | "
                     f"{bench.conversations / total:,.0f} | {run.reimport_seconds} | "
                     f"{' / '.join(f'{s:.3f}' for s in run.review_seconds)} (median "
                     f"{statistics.median(run.review_seconds):.3f}) | {run.filtered_seconds:.3f} | "
                     f"{run.page_seconds:.3f} |")
    lines += ["", *bench.notes, "Every number of the review is a GROUP BY in the database (one per day, "
              "channel and agent, summed up for the team, channels and agents; response times counted per "
              "tenth of a minute for the percentiles); the lists come a page at a time (LIMIT/OFFSET on an "
              "index); only the knowledge-gap questions of the period (at most `knowledge_gaps.limit`) are "
              "grouped in Python.", END]
    return "\n".join(line for line in lines if line is not None) + "\n"


def write_section(path: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    """Put a section (the review's by default) into BENCHMARKS.md, replacing the one there."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(with_section(text, section, begin, end), encoding="utf-8")


def with_section(text: str, section: str, begin: str = BEGIN, end: str = END) -> str:
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1]
        return before + section.rstrip("\n") + after
    return text.rstrip("\n") + "\n\n" + section


def kept_section(path: Path, begin: str = BEGIN, end: str = END) -> str:
    """A section (the review's by default) of an existing BENCHMARKS.md (a full `copilot bench` keeps it)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        return begin + text.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    return ""

