"""What the learned step model costs: locating the next step of a star-dev flow with 100 labelled
conversations, on conversations never seen (every cache emptied before each) and on conversations growing one
message at a time, against the graph alone; and reading the labelled conversations at start-up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.stats import Timing, percentiles
from copilot.flow.step_model import Examples, StepModel
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import Embedder

if TYPE_CHECKING:
    from bench.serving import ServedCopilot
    from evals.steps import StarCase

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
    http: dict[str, Timing] = field(default_factory=dict)  # drafts over HTTP


def _split(cases: list[StarCase], labelled_count: int) -> tuple[list[StarCase], set[str], list[StarCase]]:
    """The bench flow's turns, its first `labelled_count` conversations (the labelled ones), and the longest
    turn of each other conversation (a conversation the tracker has never seen)."""
    mine = [c for c in cases if c.flow == FLOW]
    labelled = set(sorted({c.conversation for c in mine})[:labelled_count])
    last = list({c.conversation: c for c in mine if c.conversation not in labelled}.values())
    return mine, labelled, last


def run_step_bench(embedder: Embedder, star: Path, progress: Callable[[str], None],
                   labelled_count: int = LABELLED, new: int = NEW, growing_count: int = GROWING) -> StepCost:
    from evals.steps import star_cases

    flows, cases = star_cases(star)
    flow = flows[FLOW]
    mine, labelled, last = _split(cases, labelled_count)
    cost = StepCost(labelled=labelled_count)
    started = time.perf_counter()
    learned = StepTracker(flow, embedder)
    moments = [(learned.read(c.messages), c.step) for c in mine if c.conversation in labelled]
    learned.model = StepModel.load().chooser(flow, Examples.build(flow, moments))
    cost.prepare_seconds = round(time.perf_counter() - started, 2)
    cost.labelled_moments = len(moments)
    graph = StepTracker(flow, embedder)
    if len(last) < new + growing_count:
        raise ValueError(f"{FLOW} has {len(labelled) + len(last)} conversations: too few for "
                         f"{labelled_count} labelled, {new} new and {growing_count} growing")
    progress(f"steps: {len(moments)} labelled moments read in {cost.prepare_seconds} s; "
             "timing new conversations")
    for name, tracker in (("graph", graph), ("learned", learned)):
        samples = cost.timings.setdefault(f"{name}, new conversation", [])
        for case in last[:new]:
            tracker.clear_caches()
            embedder_cache = getattr(embedder, "clear_cache", None)
            if embedder_cache:
                embedder_cache()
            began = time.perf_counter()
            tracker.locate(case.messages)
            samples.append((time.perf_counter() - began) * 1000)
    growing = [c for c in mine if c.conversation in {x.conversation for x in last[new: new + growing_count]}]
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
        f"`{cost.flow}` with its first {cost.labelled} labelled conversations ({cost.labelled_moments} "
        f"moments, read by the tracker at start-up in {cost.prepare_seconds} s). Locating the next step, in "
        "process, milliseconds. New conversation: the tracker's and the embedder's caches emptied before "
        "each, so every message is embedded; growing: each conversation drafted again after every wizard "
        "turn, caches kept.", "",
        "| what | samples | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- |", *rows, *_http_table(cost),
        END, "",
    ])


def _http_table(cost: StepCost) -> list[str]:
    if not cost.http:
        return []
    rows = [f"| {name} | {t.samples} | {t.p50:.2f} | {t.p95:.2f} | {t.p99:.2f} |"
            for name, t in cost.http.items()]
    note = ("Whole drafts over HTTP (`copilot serve`, one process, local composer) for the same flow with "
            "its labelled conversations (learned) and a copy without them (graph); every message carries a "
            "token used once, so every conversation is new to the server; growing: each wizard turn drafted "
            "in order.")
    return ["", note, "", "| what | requests | p50 | p95 | p99 |", "| --- | --- | --- | --- | --- |", *rows]


HTTP_COUNTS = ((1, 60), (8, 160), (32, 320))  # (concurrency, requests) of new conversations per flow
GROWING_HTTP = 8  # concurrency of the growing conversations over HTTP
GRAPH_FLOW = f"{FLOW}_graph"  # the bench flow without its labelled conversations


def run_step_http(star: Path, knowledge_dir: Path, index_dir: Path, workdir: Path,
                  progress: Callable[[str], None], labelled_count: int = LABELLED,
                  counts: tuple[tuple[int, int], ...] = HTTP_COUNTS, growing_count: int = GROWING
                  ) -> dict[str, Timing]:
    """Drafts over HTTP (`copilot serve`) for the star-dev flow with its labelled conversations (the step
    model) and for the same flow without them (the graph), on conversations never seen: every message carries
    a token used once, so nothing is cached; then conversations growing one wizard turn at a time."""
    from bench.http_bench import served_copilot
    from evals.steps import star_cases

    _, cases = star_cases(star)
    mine, labelled, last = _split(cases, labelled_count)
    knowledge = workdir / "step-knowledge"
    labelled_turns = [c for c in mine if c.conversation in labelled]
    moments = _write_step_knowledge(knowledge, knowledge_dir, star, labelled_turns)
    growing = sorted((c for c in mine if c.conversation in {x.conversation for x in last[:growing_count]}),
                     key=lambda c: (c.conversation, len(c.messages)))
    timings: dict[str, Timing] = {}
    with served_copilot(index_dir, knowledge, workdir) as server:
        progress(f"steps over HTTP: serving {FLOW} with {moments} labelled moments")
        for name, flow_id in (("graph", GRAPH_FLOW), ("learned", FLOW)):
            timings.update(_new_over_http(server, name, flow_id, last, counts))
            timings.update(_growing_over_http(server, name, flow_id, growing))
    return timings


def _write_step_knowledge(knowledge: Path, knowledge_dir: Path, star: Path,
                          labelled: list[StarCase]) -> int:
    """`knowledge`: a copy of `knowledge_dir` with the bench flow and its `labelled` turns as examples, and
    the same flow under GRAPH_FLOW without them; returns the number of labelled moments."""
    import json
    import shutil

    shutil.rmtree(knowledge, ignore_errors=True)
    shutil.copytree(knowledge_dir, knowledge)
    flows = knowledge / "flows"
    source = (star / "flows" / f"{FLOW}.yaml").read_text(encoding="utf-8")
    (flows / f"{FLOW}.yaml").write_text(source, encoding="utf-8")
    graph = source.replace(f"id: {FLOW}", f"id: {GRAPH_FLOW}", 1)
    (flows / f"{GRAPH_FLOW}.yaml").write_text(graph, encoding="utf-8")
    lines = [json.dumps({"input": {"messages": [m.model_dump(exclude_none=True) for m in c.messages]},
                         "expected": {"step": c.step}}) for c in labelled]
    (flows / f"{FLOW}.examples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _draft_body(flow_id: str, messages: list[Any], token: str) -> dict[str, Any]:
    """A draft request whose every message carries `token`, so the server has never seen the conversation."""
    return {"platform": "livechat", "flow": flow_id, "language": "en",
            "messages": [{"role": m.role, "text": f"{m.text} ({token})"} for m in messages]}


def _new_over_http(server: ServedCopilot, name: str, flow_id: str, last: list[StarCase],
                   counts: tuple[tuple[int, int], ...]) -> dict[str, Timing]:
    """Drafts of never-seen conversations (the `last` turns, cycled) at each (concurrency, requests)."""
    from bench.http_bench import _run

    timings: dict[str, Timing] = {}
    for concurrency, total in counts:
        def new(number: int, concurrency: int = concurrency) -> tuple[str, Any]:
            case = last[number % len(last)]
            return "/v1/drafts", _draft_body(flow_id, case.messages, f"{flow_id}-{concurrency}-{number}")
        run = _run(f"{name} new c{concurrency}", server, new, concurrency, total=total)
        timings[f"{name}, new conversation, concurrency {concurrency}"] = run.timing
    return timings


def _growing_over_http(server: ServedCopilot, name: str, flow_id: str,
                       growing: list[StarCase]) -> dict[str, Timing]:
    """Each of the `growing` turns drafted once, in order, a token per conversation."""
    from bench.http_bench import _run

    def grow(number: int) -> tuple[str, Any]:
        case = growing[number % len(growing)]
        return "/v1/drafts", _draft_body(flow_id, case.messages, f"{flow_id}-grow-{case.conversation}")

    run = _run(f"{name} growing", server, grow, GROWING_HTTP, total=len(growing))
    return {f"{name}, growing conversation, concurrency {GROWING_HTTP}": run.timing}
