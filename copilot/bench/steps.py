"""What the learned step model costs: locating the next step of a star-dev flow with 100 labelled conversations,
on conversations never seen (every cache emptied before each) and on conversations growing one message at a
time, against the graph alone; and reading the labelled conversations at start-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from copilot.bench.stats import percentiles
from copilot.retrieval.embedders import Embedder
from copilot.step_model import Examples, StepModel
from copilot.tracker import StepTracker

BEGIN, END = "<!-- step bench: copilot bench --steps -->", "<!-- /step bench -->"
FLOW = "star_bank_fraud_report"  # the task with the most conversations (387)
LABELLED = 100
NEW = 200
GROWING = 40  # conversations; with 100 labelled and 200 new, 87 are left


@dataclass
class StepCost:
    flow: str = FLOW
    labelled: int = LABELLED  # conversations
    labelled_moments: int = 0
    prepare_seconds: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=dict)  # milliseconds per locate


def run_step_bench(embedder: Embedder, star: Path, progress: Callable[[str], None], labelled_count: int = LABELLED,
                   new: int = NEW, growing_count: int = GROWING) -> StepCost:
    from evals.steps import star_cases

    flows, cases = star_cases(star)
    flow = flows[FLOW]
    mine = [c for c in cases if c.flow == FLOW]
    conversations = sorted({c.conversation for c in mine})
    labelled = set(conversations[:labelled_count])
    cost = StepCost(labelled=labelled_count)
    started = time.perf_counter()
    learned = StepTracker(flow, embedder)
    moments = [(learned.read(c.messages), c.step) for c in mine if c.conversation in labelled]
    learned.model = StepModel.load().chooser(flow, Examples.build(flow, moments))
    cost.prepare_seconds = round(time.perf_counter() - started, 2)
    cost.labelled_moments = len(moments)
    graph = StepTracker(flow, embedder)
    last = {c.conversation: c for c in mine if c.conversation not in labelled}  # the longest moment of each
    if len(last) < new + growing_count:
        raise ValueError(f"{FLOW} has {len(conversations)} conversations: too few for {labelled_count} labelled, "
                         f"{new} new and {growing_count} growing")
    progress(f"steps: {len(moments)} labelled moments read in {cost.prepare_seconds} s; timing new conversations")
    for name, tracker in (("graph", graph), ("learned", learned)):
        samples = cost.timings.setdefault(f"{name}, new conversation", [])
        for case in list(last.values())[:new]:
            tracker.clear_caches()
            embedder_cache = getattr(embedder, "clear_cache", None)
            if embedder_cache:
                embedder_cache()
            began = time.perf_counter()
            tracker.locate(case.messages)
            samples.append((time.perf_counter() - began) * 1000)
    growing = [c for c in mine if c.conversation in set(list(last)[new: new + growing_count])]
    for name, tracker in (("graph", graph), ("learned", learned)):
        samples = cost.timings.setdefault(f"{name}, growing conversation", [])
        for case in sorted(growing, key=lambda c: (c.conversation, len(c.messages))):
            began = time.perf_counter()
            tracker.locate(case.messages)
            samples.append((time.perf_counter() - began) * 1000)
    return cost


def step_markdown(cost: StepCost) -> str:
    rows = [f"| {name} | {len(ms)} | " + " | ".join(f"{value:.2f}" for value in percentiles(ms)) + " |"
            for name, ms in cost.timings.items()]
    return "\n".join([
        BEGIN, "## The step model", "",
        f"`{cost.flow}` with its first {cost.labelled} labelled conversations ({cost.labelled_moments} moments, "
        f"read by the tracker at start-up in {cost.prepare_seconds} s). Locating the next step, in process, "
        "milliseconds. New conversation: the tracker's and the embedder's caches emptied before each, so every "
        "message is embedded; growing: each conversation drafted again after every wizard turn, caches kept.", "",
        "| what | samples | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- |", *rows, END, "",
    ])
