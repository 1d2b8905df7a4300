"""BENCHMARKS.md from a bench run: the goals with their measured values first, then every table."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

from bench.growth import GrowthCell
from bench.runner import BenchResults
from bench.stats import Goal, Timing, at_least, at_most
from copilot.retrieval.index import EXACT_LIMIT

QUICK_LIMIT_S = 300


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _p95(timing: Timing | None) -> float | None:
    return timing.p95 if timing else None


def goals(results: BenchResults) -> list[Goal]:
    """Every goal of the issue with what this run measured."""
    served, overhead, config = results.served, results.overhead, results.config
    runs = served.runs if served else []
    at_8 = next((run.timing for run in runs if run.name.endswith("next message, concurrency 8")), None)
    largest = max(config.sizes)
    embedded = next((s.timing for s in results.scaled if s.chunks == largest and s.store == "embedded"), None)
    server = next((s.timing for s in results.scaled if s.chunks == largest and s.store == "server"), None)
    load = served.load if served else None
    rows = [
        at_most("warm draft p95, in-process (next message)", _p95(results.draft_next), 50, "ms"),
        at_most("warm draft p95, over HTTP at concurrency 8 (next message)", _p95(at_8), 100, "ms"),
        at_most(f"retrieval p95 at {largest:,} chunks, embedded Chroma", _p95(embedded), 30, "ms"),
        at_most(f"retrieval p95 at {largest:,} chunks, Chroma server", _p95(server), 30, "ms"),
        at_least("ingest throughput / raw encode throughput",
                 results.ingest.ratio if results.ingest else None, 0.8),
        at_most("overhead in front of an LLM, p95", _p95(overhead.overhead) if overhead else None, 30, "ms"),
        at_most("serving memory (peak RSS of copilot serve after the load test)",
                served.memory.peak if served else None, 1536, "MB"),
        at_most("load test errors", float(load.result.errors) if load else None, 0),
        at_most("guardrail check p95", _p95(results.guardrail), 5, "ms"),
    ]
    if largest < 100_000:
        rows[2:4] = [
            Goal(goal.name, goal.target, f"{goal.measured} (--quick: 100,000 chunks not built)", None)
            for goal in rows[2:4]
        ]
    if config.quick:
        rows.append(at_most("`copilot bench --quick` run time", results.seconds, QUICK_LIMIT_S, "s"))
    if results.triage_fit:
        fit = results.triage_fit
        rows.append(at_most(f"triage model fit, {fit.examples:,} examples (embeddings kept)", fit.fit_seconds,
                            30, "s"))
        rows.append(at_most("triage model load from the index folder", fit.load_seconds, 1, "s"))
    if results.evaluation:
        cases, seconds = results.evaluation
        per_500 = round(seconds * 500 / max(cases, 1), 1)
        rows.append(at_most("eval runner, seconds per 500 cases", per_500, 120, "s"))
    return rows


def _verdict(goal: Goal) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[goal.passed]


def _timing_rows(timings: Sequence[Timing]) -> list[str]:
    return [f"| {t.name} | {t.samples} | {t.p50} | {t.p95} | {t.p99} |" for t in timings]


def markdown(results: BenchResults) -> str:
    """The whole report."""
    config = results.config
    command = "copilot bench --quick" if config.quick else "copilot bench"
    machine = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({_cpu()}), "
               f"Python {platform.python_version()}")
    before, after = [*results.load_average, 0.0, 0.0][:2]
    lines = [
        "# Benchmarks", "",
        f"`{command}` on {machine}, {time.strftime('%Y-%m-%d')}; the run took {results.seconds:.0f} s. Load "
        f"average {before} before and {after} after (on {os.cpu_count()} cores): other work on the machine "
        "inflates every number here, so compare runs made on a quiet machine. Times in milliseconds.", "",
        "## Goals", "", "| goal | target | measured | verdict |", "| --- | --- | --- | --- |",
        *[f"| {g.name} | {g.target} | {g.measured} | {_verdict(g)} |" for g in goals(results)], "",
    ]
    lines += _latency_section(results)
    lines += _served_section(results)
    lines += _scale_section(results)
    lines += _growth_section(results.growth)
    lines += _method_section(results)
    return "\n".join(lines) + "\n"


def _latency_section(results: BenchResults) -> list[str]:
    timings = [t for t in (results.draft_next, results.draft_new, results.search, results.guardrail) if t]
    lines = ["## In-process (shipped knowledge base, local composer)", "",
             "| what | samples | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- |",
             *_timing_rows(timings), ""]
    if results.ingest:
        ingest = results.ingest
        lines += ["| ingest | chunks | chunks/s | raw encode chunks/s | ratio |",
                  "| --- | --- | --- | --- | --- |",
                  f"| `copilot ingest` into an empty index | {ingest.chunks} | {ingest.ingest_per_s} | "
                  f"{ingest.encode_per_s} | {ingest.ratio} |", ""]
    if results.evaluation:
        cases, seconds = results.evaluation
        lines += ["| eval runner | cases | seconds | cases per second |", "| --- | --- | --- | --- |",
                  f"| `copilot eval evals/datasets/*.jsonl` | {cases} | {seconds} | "
                  f"{cases / max(seconds, 1e-9):.0f} |", ""]
    return lines


def _served_section(results: BenchResults) -> list[str]:
    served, overhead = results.served, results.overhead
    if served is None:
        return []
    lines = [
        "## Over HTTP (`copilot serve` in a child process on 127.0.0.1, local composer)", "",
        f"Cold start of `copilot serve` to a ready `/readyz` (index already built): {served.cold_start_s} s. "
        f"Memory after warm-up: {served.rss_after_warm_up} MB resident, peak {served.peak_after_warm_up} MB.",
        "",
        "| what | requests | errors | req/s | p50 | p95 | p99 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    runs = [*served.runs, *([served.load] if served.load else [])]
    lines += [f"| {r.name} | {r.result.requests} | {r.result.errors} | {r.result.throughput} | "
              f"{r.timing.p50} | {r.timing.p95} | {r.timing.p99} |" for r in runs]
    failures = [f"- {r.name}: {sample}" for r in runs for sample in r.result.error_samples]
    if failures:
        lines += ["", "Failed requests (the first of each run):", "", *failures]
    if served.load:
        start, middle, end, top = served.memory.summary()
        load = served.load.result
        lines += ["", f"Load test: {load.requests} requests in {load.seconds:.0f} s, {load.errors} errors. "
                  "Server memory (resident MB, sampled every second): start "
                  f"{start}, middle {middle}, end {end}, max {top}; peak since start {served.memory.peak}."]
    if overhead:
        lines += ["", "In front of an LLM (an OpenAI-compatible server started by the bench that answers at "
                  f"once), sequential drafts, {overhead.llm_calls_per_draft} LLM calls per draft:", "",
                  "| what | samples | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- |",
                  *_timing_rows([overhead.total, overhead.llm, overhead.overhead])]
    return [*lines, ""]


def _scale_section(results: BenchResults) -> list[str]:
    if not results.scaled:
        return []
    lines = ["## Search at 1k / 10k / 100k chunks (synthetic knowledge base, new query each time)", "",
             "| chunks | vector store | build: vectors s | build: BM25 s | p50 | p95 | p99 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for scaled in results.scaled:
        build = {"embedded": f"{scaled.store_seconds} | {scaled.lexical_seconds}",
                 "exact": "(read from the embedded store) | -"}.get(scaled.store,
                                                                     "(copy of the embedded data) | -")
        store = {"embedded": "embedded Chroma",
                 "exact": f"in memory, exact (what `copilot serve` uses up to {EXACT_LIMIT:,} chunks)",
                 }.get(scaled.store, "`chroma run` server on loopback")
        timing = scaled.timing
        lines.append(f"| {scaled.chunks:,} | {store} | {build} | {timing.p50} | {timing.p95} | "
                     f"{timing.p99} |")
    if max(results.config.sizes) < 100_000:
        lines += ["", "`--quick` stops at 10,000 chunks; the full run builds 100,000."]
    return [*lines, ""]


def _growth_section(cells: Sequence[GrowthCell]) -> list[str]:
    if not cells:
        return []
    sizes = sorted({cell.chunks for cell in cells})
    lengths = sorted({cell.messages for cell in cells})
    by = {(cell.chunks, cell.messages): cell for cell in cells}
    header = " | ".join(f"{length} messages" for length in lengths)
    lines = ["## How cost grows (in-process draft, local composer)", "",
             "Each cell: next message p50 / p95, then a new conversation p50 (nothing cached: every agent "
             "message is read for the first time).", "",
             f"| chunks | {header} |", "| --- |" + " --- |" * len(lengths)]
    for size in sizes:
        cells_text = [f"{by[size, n].next_message.p50} / {by[size, n].next_message.p95}; new "
                      f"{by[size, n].new_conversation.p50}" for n in lengths if (size, n) in by]
        lines.append(f"| {size:,} | {' | '.join(cells_text)} |")
    return [*lines, "", *_prediction(cells, sizes, lengths), ""]


def _prediction(cells: Sequence[GrowthCell], sizes: list[int], lengths: list[int]) -> list[str]:
    """Plain-language slopes from the table, so a team can place its own help centre and conversations."""
    by = {(cell.chunks, cell.messages): cell for cell in cells}
    short, long_ = lengths[0], lengths[-1]
    small, large = sizes[0], sizes[-1]
    size_cost = by[large, short].next_message.p50 - by[small, short].next_message.p50
    per_message = ((by[small, long_].new_conversation.p50 - by[small, short].new_conversation.p50)
                   / max(long_ - short, 1))
    return [f"To predict your numbers: going from {small:,} to {large:,} chunks changes a draft by "
            f"{size_cost:+.1f} ms at p50 (the search: BM25 scores grow with the number of chunks, the vector "
            f"index's cost barely). A long conversation costs little once its messages were seen (the "
            f"next-message figures); the first time the copilot reads a conversation it costs about "
            f"{per_message:.1f} ms per message (each agent message is embedded to locate the flow step)."]


def _method_section(results: BenchResults) -> list[str]:
    return [
        "## How this is measured", "",
        "- **Next message**: a dataset conversation (`evals/datasets/drafts.jsonl`, cycled) whose last agent "
        "and last customer messages carry an order number never used before, after every conversation was "
        "drafted once, as when the sidebar drafts again after the customer wrote back. **New conversation**: "
        "every message is new (in-process: every cache emptied before each draft).",
        "- **Over HTTP**: `copilot serve` started by the bench as a child process on a free loopback port; a "
        "closed loop of N clients (httpx, asyncio) in the bench process, each sending its next request when "
        "the previous one is answered. Memory is the server's VmRSS / VmHWM from `/proc/<pid>/status`.",
        "- **Overhead in front of an LLM**: the copilot is started with `COPILOT_LLM_BASE_URL` pointing at "
        "an OpenAI-compatible server in the bench process that answers at once; overhead = latency at the "
        "client minus the time the LLM server spent on the draft's calls (from reading each request to "
        "writing its answer): retrieval, prompt, HTTP to the model, guardrails, repair and the API itself.",
        "- **Synthetic knowledge bases**: the shipped chunks, then chunks grown from them (same titles, "
        "sections and metadata; their own sentences mixed with others of the same language; a quarter "
        "folded, as Vietnamese typed without accents). Their vectors are the real embedding of the chunk "
        "they grew from plus Gaussian noise, unit-normalised, instead of encoding 100,000 texts: the "
        "encoder's speed is measured on its own (ingest). The real ChromaVectorStore, BM25Index and "
        "HybridRetriever search them; queries are `evals/datasets/retrieval.jsonl` with their platform "
        "filter.",
        "- **Ingest**: `copilot ingest` into an empty index of the shipped knowledge folder "
        f"(x{results.config.ingest_copies}), against one `embed` call over the same chunk texts with the "
        "same loaded model.",
    ]
