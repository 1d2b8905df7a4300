"""Over HTTP, against `copilot serve` in a child process: drafts at several concurrencies, checks, a bounded
load test with the server's memory sampled, and the copilot's own time in front of an instant LLM."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.http_load import LoadResult, RequestMaker, run_load
from bench.openai_server import FakeOpenAIServer, answer_at_once
from bench.serving import ServedCopilot
from bench.stats import Timing
from bench.workload import Workload
from copilot.errors import CopilotError


@dataclass(frozen=True)
class LoadRun:
    """One closed-loop run and its latency percentiles."""

    name: str
    result: LoadResult
    timing: Timing


@dataclass
class MemoryTrace:
    """The server's resident memory (MB) sampled during the load test, and its peak since it started."""

    samples: list[float] = field(default_factory=list)
    peak: float = 0.0

    def summary(self) -> tuple[float, float, float, float]:
        """start, middle, end and max of the samples."""
        values = self.samples or [0.0]
        return values[0], values[len(values) // 2], values[-1], max(values)


@dataclass
class ServedResults:
    cold_start_s: float = 0.0
    rss_after_warm_up: float = 0.0
    peak_after_warm_up: float = 0.0
    runs: list[LoadRun] = field(default_factory=list)
    load: LoadRun | None = None
    memory: MemoryTrace = field(default_factory=MemoryTrace)


@dataclass(frozen=True)
class Overhead:
    """Per draft: the whole latency seen by the client, the LLM server's own time, and the difference."""

    total: Timing
    llm: Timing
    overhead: Timing
    llm_calls_per_draft: float


def _run(name: str, server: ServedCopilot, make: RequestMaker, concurrency: int, total: int | None = None,
         seconds: float | None = None, tick: Callable[[], None] | None = None) -> LoadRun:
    """A closed-loop run; failed requests are counted and reported (a few of them quoted), not raised."""
    result = run_load(server.url, make, concurrency, total=total, seconds=seconds, tick=tick)
    if not result.latencies_ms:
        raise CopilotError(f"{name}: every request failed, e.g. {result.error_samples[:1]}")
    return LoadRun(name, result, Timing.of(name, result.latencies_ms))


def served_copilot(index_dir: Path, knowledge_dir: Path, workdir: Path, extra: dict[str, str] | None = None
                   ) -> ServedCopilot:
    """`copilot serve` over a copy of `index_dir` (of the same knowledge, so the start only checks it)."""
    name = "llm" if extra else "local"
    copy = workdir / f"serve-{name}-index"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(index_dir, copy)
    env = {"COPILOT_KNOWLEDGE_DIR": str(knowledge_dir.resolve()), "COPILOT_INDEX_DIR": str(copy),
           "COPILOT_DATA_DIR": str(workdir / f"serve-{name}-data"), **(extra or {})}
    return ServedCopilot(workdir, env)


def serve_and_load(server: ServedCopilot, workload: Workload, counts: Sequence[tuple[int, int]],
                   load_seconds: float) -> ServedResults:
    """Warm up (every dataset conversation once), then drafts at each (concurrency, requests) as the next
    message of a conversation, new conversations and checks at 8, then `load_seconds` of drafts and checks
    at 32."""
    results = ServedResults(cold_start_s=server.cold_start_s)
    _run("warm-up", server, workload.draft_call, 4, total=len(workload.drafts))
    results.rss_after_warm_up, results.peak_after_warm_up = server.memory_mb()
    for concurrency, total in counts:
        results.runs.append(_run(f"draft over HTTP, next message, concurrency {concurrency}", server,
                                 workload.next_draft_call, concurrency, total=total))
    middle = counts[len(counts) // 2][1]
    results.runs.append(_run("draft over HTTP, new conversation, concurrency 8", server, workload.draft_call,
                             8, total=middle))
    results.runs.append(_run("guardrail check over HTTP, concurrency 8", server, workload.check_call, 8,
                             total=middle * 2))

    def sample() -> None:
        results.memory.samples.append(server.memory_mb()[0])

    results.load = _run("load: drafts and checks, concurrency 32", server, workload.mixed_call, 32,
                        seconds=load_seconds, tick=sample)
    results.memory.peak = server.memory_mb()[1]
    return results


def llm_overhead(
    index_dir: Path, knowledge_dir: Path, workdir: Path, workload: Workload, drafts: int
) -> Overhead:
    """Sequential drafts (the next message of a conversation) with the copilot pointed at an instant LLM. The
    overhead of a draft is its latency at the client minus the time the LLM server spent answering its calls
    (from reading a request to writing its answer): everything the copilot adds in front of a real model."""
    with FakeOpenAIServer(responder=answer_at_once) as llm:
        extra = {"COPILOT_LLM_BASE_URL": llm.base_url, "COPILOT_LLM_MODEL": "instant"}
        with served_copilot(index_dir, knowledge_dir, workdir, extra) as server, httpx.Client(
                base_url=server.url, timeout=60) as client:
            for number in range(len(workload.drafts)):
                _post(client, *workload.draft_call(number))
            totals, llm_times, calls = [], [], 0
            for number in range(drafts):
                path, body = workload.next_draft_call(number)
                calls_before, busy_before = llm.busy()
                started = time.perf_counter()
                _post(client, path, body)
                total = (time.perf_counter() - started) * 1000
                calls_after, busy_after = llm.busy()
                totals.append(total)
                llm_times.append((busy_after - busy_before) * 1000)
                calls += calls_after - calls_before
    overheads = [total - spent for total, spent in zip(totals, llm_times, strict=True)]
    return Overhead(Timing.of("draft with an instant LLM", totals),
                    Timing.of("the LLM server's time", llm_times),
                    Timing.of("overhead in front of the LLM", overheads), round(calls / max(drafts, 1), 2))


def _post(client: httpx.Client, path: str, body: object) -> None:
    response = client.post(path, json=body)
    if response.status_code != 200:
        raise CopilotError(f"{path} answered {response.status_code}: {response.text[:300]}")
    if response.json().get("degraded"):
        raise CopilotError(f"{path}: the draft was degraded, the instant LLM was not used")
