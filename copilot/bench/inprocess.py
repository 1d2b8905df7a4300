"""`copilot bench`: latency of the parts an agent waits for, on this machine, written to BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from copilot.contracts import DraftRequest
from copilot.core import Copilot


@dataclass(frozen=True)
class Timing:
    name: str
    samples: int
    p50: float
    p95: float
    p99: float
    goal: str


def percentiles(values_ms: Sequence[float]) -> tuple[float, float, float]:
    ordered = sorted(values_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return round(cuts[49], 3), round(cuts[94], 3), round(cuts[98], 3)


def measure(
    name: str, calls: Sequence[Callable[[], Any]], rounds: int, goal: str, reset: Callable[[], None] = lambda: None
) -> Timing:
    """Run every call once to warm up, then `rounds` times, timing each call; `reset` (untimed) empties caches
    first, so a repeated query costs what a new customer message costs."""
    for call in calls:
        call()
    values = []
    for _ in range(rounds):
        for call in calls:
            reset()
            started = time.perf_counter()
            call()
            values.append((time.perf_counter() - started) * 1000)
    return Timing(name, len(values), *percentiles(values), goal)


def _cases(path: Path, kind: str) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [case for case in map(json.loads, filter(str.strip, lines)) if case["kind"] == kind]


def run_bench(copilot: Copilot, datasets: Path, quick: bool) -> list[Timing]:
    rounds = 3 if quick else 20
    engine = copilot.guardrails
    checks = []
    for case in _cases(datasets / "guardrails.jsonl", "guardrail"):
        request = case["input"]
        context = engine.context(request["text"], request.get("platform", "livechat"), "livechat",
                                 request.get("step"), "auto")
        checks.append(partial(engine.check, request["text"], context))
    queries = [case["input"]["q"] for case in _cases(datasets / "retrieval.jsonl", "retrieval")]
    drafts = [DraftRequest.model_validate(case["input"]) for case in _cases(datasets / "drafts.jsonl", "draft")]
    return [
        measure("guardrail check (one reply, all rules)", checks, rounds * 5, "p95 <= 5 ms"),
        measure("retrieval, hybrid, shipped knowledge base", [partial(copilot.search, q, k=5) for q in queries],
                rounds, "p95 <= 30 ms", copilot.clear_caches),
        measure("draft in-process, local composer (warm model, new message)",
                [partial(copilot.draft, r) for r in drafts], rounds, "p95 <= 50 ms", copilot.clear_caches),
    ]


def eval_speed(copilot: Copilot, datasets: Path) -> tuple[int, float]:
    """How long `copilot eval` takes over every shipped dataset (all case kinds, ragas similarity on)."""
    from evals.runner import run_eval

    report = run_eval(copilot, sorted(datasets.glob("*.jsonl")))
    return len(report.cases), report.seconds


def markdown(timings: Sequence[Timing], quick: bool, evaluation: tuple[int, float] | None = None) -> str:
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# Benchmarks", "",
        f"`copilot bench{' --quick' if quick else ''}` on {machine}, {time.strftime('%Y-%m-%d')}. "
        "Warm process, shipped knowledge base, no LLM; times in milliseconds.", "",
        "| what | samples | p50 | p95 | p99 | goal |", "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {t.name} | {t.samples} | {t.p50} | {t.p95} | {t.p99} | {t.goal} |" for t in timings]
    if evaluation:
        cases, seconds = evaluation
        rate = cases / seconds if seconds else 0.0
        lines += ["", "| eval runner | cases | seconds | cases per second | goal |", "| --- | --- | --- | --- | --- |",
                  f"| `copilot eval evals/datasets/*.jsonl` (local composer, ragas similarity) | {cases} | {seconds} | "
                  f"{rate:.0f} | 500 cases < 120 s |"]
    return "\n".join(lines) + "\n"
