"""The whole bench: what runs, in which order, with how many samples (`--quick` or full)."""

from __future__ import annotations

import gc
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.growth import GrowthCell, copilot_over, growth_row
from bench.http_bench import Overhead, ServedResults, llm_overhead, serve_and_load, served_copilot
from bench.ingest import IngestSpeed, enlarged_knowledge, ingest_speed
from bench.inprocess import draft_timings, eval_speed, guardrail_timing, search_timing
from bench.scale import build_index, served_search_timing
from bench.scale import search_timing as scaled_search_timing
from bench.stats import Timing
from bench.triage_fit import TriageFit, triage_fit_speed
from bench.workload import Workload
from copilot.core import Copilot
from copilot.settings import Settings

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchConfig:
    """How much the bench measures. `sizes` are the synthetic knowledge bases; the largest is also measured
    against a `chroma run` server."""

    quick: bool
    rounds: int
    sizes: tuple[int, ...]
    search_rounds: int
    ingest_copies: int
    growth_lengths: tuple[int, ...]
    growth_conversations: int
    growth_rounds: int
    http_counts: tuple[tuple[int, int], ...]
    load_seconds: float
    llm_drafts: int
    evaluation: bool

    @classmethod
    def for_run(cls, quick: bool, load_seconds: float | None = None) -> BenchConfig:
        """Full: 1k, 10k and 100k chunks, a 2-minute load test, the eval runner. Quick: 1k and 10k chunks (the
        100k build alone takes over a minute), a 30-second load test, fewer samples."""
        if quick:
            return cls(True, 1, (1_000, 10_000), 1, 1, (2, 20, 200), 2, 3, ((1, 60), (8, 160), (32, 192)),
                       30.0 if load_seconds is None else load_seconds, 40, False)
        return cls(False, 5, (1_000, 10_000, 100_000), 3, 2, (2, 20, 200), 4, 6,
                   ((1, 200), (8, 480), (32, 640)),
                   120.0 if load_seconds is None else load_seconds, 150, True)


@dataclass(frozen=True)
class ScaledSearch:
    chunks: int
    store: str
    timing: Timing
    store_seconds: float = 0.0
    lexical_seconds: float = 0.0


@dataclass
class BenchResults:
    config: BenchConfig
    load_average: list[float] = field(default_factory=list)
    seconds: float = 0.0
    guardrail: Timing | None = None
    search: Timing | None = None
    draft_next: Timing | None = None
    draft_new: Timing | None = None
    served: ServedResults | None = None
    overhead: Overhead | None = None
    ingest: IngestSpeed | None = None
    scaled: list[ScaledSearch] = field(default_factory=list)
    growth: list[GrowthCell] = field(default_factory=list)
    evaluation: tuple[int, float] | None = None
    triage_fit: TriageFit | None = None


def run_bench(copilot: Copilot, config: BenchConfig, datasets: Path, workdir: Path,
              progress: Progress = lambda message: None, workload: Workload | None = None) -> BenchResults:
    """Measure everything with `copilot` (warmed up: index current, model loaded) on its knowledge folder and
    the requests of `datasets`; temporary indexes and servers live in `workdir`, removed at the end."""
    started = time.perf_counter()
    results = BenchResults(config, load_average=[round(os.getloadavg()[0], 2)])
    workload = workload or Workload.load(datasets)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        _in_process(copilot, config, workload, results, progress)
        if (copilot.settings.knowledge_dir / "triage.yaml").exists():
            progress("triage model: fit on 10,000 examples, load from the index folder")
            results.triage_fit = triage_fit_speed(copilot.settings.knowledge_dir, copilot.index.embedder,
                                                  workdir)
        _over_http(copilot.settings, config, workload, workdir, results, progress)
        _ingest_and_scale(copilot, config, workload, workdir, results, progress)
        if config.evaluation:
            progress("eval runner over every dataset")
            results.evaluation = eval_speed(copilot, datasets)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results.load_average.append(round(os.getloadavg()[0], 2))
    results.seconds = round(time.perf_counter() - started, 1)
    return results


def _in_process(copilot: Copilot, config: BenchConfig, workload: Workload, results: BenchResults,
                progress: Progress) -> None:
    progress("in-process: guardrail checks, searches, drafts")
    results.guardrail = guardrail_timing(copilot, workload, config.rounds * 5)
    results.search = search_timing(copilot, workload, config.rounds)
    results.draft_next, results.draft_new = draft_timings(copilot, workload, config.rounds)


def _over_http(settings: Settings, config: BenchConfig, workload: Workload, workdir: Path,
               results: BenchResults, progress: Progress) -> None:
    progress("over HTTP: copilot serve in a child process, drafts at concurrency 1, 8, 32, load test")
    with served_copilot(settings.index_dir, settings.knowledge_dir, workdir) as server:
        results.served = serve_and_load(server, workload, config.http_counts, config.load_seconds)
    progress("over HTTP with an instant LLM: the copilot's own overhead")
    results.overhead = llm_overhead(settings.index_dir, settings.knowledge_dir, workdir, workload,
                                    config.llm_drafts)


def _ingest_and_scale(copilot: Copilot, config: BenchConfig, workload: Workload, workdir: Path,
                      results: BenchResults, progress: Progress) -> None:
    progress("ingest throughput against raw encode")
    folder = enlarged_knowledge(copilot.settings.knowledge_dir, config.ingest_copies,
                                workdir / "ingest-knowledge")
    results.ingest, base, base_vectors = ingest_speed(folder, copilot.index.embedder, workdir)
    for size in config.sizes:
        progress(f"synthetic knowledge base of {size:,} chunks: build, search, drafts")
        built = build_index(base, base_vectors, size, copilot.index.embedder, workdir / f"kb-{size}")
        timing = scaled_search_timing(f"{size:,} chunks, embedded Chroma", built.retriever, workload.queries,
                                      config.search_rounds)
        results.scaled.append(ScaledSearch(size, "embedded", timing, built.store_seconds,
                                           built.lexical_seconds))
        if built.exact is not None:
            exact = scaled_search_timing(f"{size:,} chunks, exact in memory", built.exact, workload.queries,
                                         config.search_rounds)
            results.scaled.append(ScaledSearch(size, "exact", exact))
        if size == max(config.sizes):
            served = served_search_timing(built, workload.queries, config.search_rounds, workdir)
            results.scaled.append(ScaledSearch(size, "server", served))
        grown = copilot_over(copilot.settings, built.served, built.store)
        results.growth += growth_row(grown, size, workload, config.growth_lengths,
                                     config.growth_conversations, config.growth_rounds)
        del built, grown
        gc.collect()
