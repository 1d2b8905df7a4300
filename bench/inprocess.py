"""In the bench process, on the shipped knowledge base: a guardrail check, a search, drafts with the local
composer, and the eval runner's speed."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bench.stats import Timing, measure, timed
from bench.workload import Workload, renewed
from copilot.contracts import DraftRequest, GuardrailRequest
from copilot.core import Copilot


def guardrail_timing(copilot: Copilot, workload: Workload, rounds: int) -> Timing:
    """One reply checked against every rule of its platform, flow and step (as `/v1/guardrails/check`)."""
    checks = [GuardrailRequest.model_validate(body) for body in workload.checks]
    return measure("guardrail check (one reply, all rules)", [partial(copilot.check, c) for c in checks],
                   rounds)


def search_timing(copilot: Copilot, workload: Workload, rounds: int) -> Timing:
    """Hybrid search, k=5, with the platform the query was asked for; its embedding computed each time."""
    calls = [partial(copilot.search, text, k=5, platform=platform) for text, platform in workload.queries]
    return measure("search, hybrid, shipped knowledge base (new query)", calls, rounds, copilot.clear_caches)


def draft_timings(copilot: Copilot, workload: Workload, rounds: int) -> tuple[Timing, Timing]:
    """Drafts of every dataset conversation with the local composer: as the next message of a conversation the
    copilot has seen (its last agent and customer messages new), and as a new conversation (every cache
    emptied first)."""
    originals = [DraftRequest.model_validate(body) for body in workload.drafts]
    for request in originals:
        copilot.draft(request)
    following = [DraftRequest.model_validate(renewed(body, workload.order(), whole=False))
                 for _ in range(rounds) for body in workload.drafts]
    next_message = timed("draft in-process, next message", copilot.draft, following)
    new = timed("draft in-process, new conversation", copilot.draft, originals * rounds, copilot.clear_caches)
    return next_message, new


def eval_speed(copilot: Copilot, datasets: Path) -> tuple[int, float]:
    """How long `copilot eval` takes over every shipped dataset (all case kinds, ragas similarity on)."""
    from evals.runner import run_eval

    report = run_eval(copilot, sorted(datasets.glob("*.jsonl")))
    return len(report.cases), report.seconds
