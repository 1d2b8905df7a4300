"""The drafting pipeline, in the order of the architecture picture: understand -> locate the step -> plan the
acts -> retrieve -> compose -> check and repair -> respond. Each stage is one method of `Stages`
(`copilot/stages.py`; the drafter holds the components); this module only runs them in order over one state,
the draft plan. Triage is a second, shorter pipeline: read what the customer asks, decide, reply (through the
drafts) or hand off."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

from copilot.compose.base import Completion
from copilot.contracts import DraftRequest, DraftResponse
from copilot.stages import DraftPlan, Stages, TriageStages

if TYPE_CHECKING:
    from copilot.triage.contracts import TriageRequest, TriageResponse

# Understanding a conversation and searching (model calls, Python work) runs in at most one request thread per
# core: more threads only take the interpreter lock from each other and from the model, and a server at
# concurrency 8 answered its slowest drafts 30 % later. The LLM call is outside, so slow LLMs still overlap.
CPU_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


def prepare(stages: Stages, request: DraftRequest) -> DraftPlan:
    """Everything before the model writes: understand, locate the step, plan the acts, retrieve."""
    with CPU_SLOTS:
        return _prepare(stages, request)


def _prepare(stages: Stages, request: DraftRequest) -> DraftPlan:
    flow = stages.validate(request)
    language = stages.language(request)
    understanding = stages.understand(request, flow, language)
    location = stages.locate(request, flow, understanding)
    reply = stages.plan(request, flow, location, understanding)
    return DraftPlan(flow, location, stages.context(request, flow, location, reply, language), reply)


def finish(stages: Stages, request: DraftRequest, plan: DraftPlan, completion: Completion, degraded: bool,
           started: float) -> DraftResponse:
    """Everything after the model wrote: check and repair, then the response."""
    outcome, grounded = stages.check(request, plan, completion)
    return stages.respond(plan, completion, outcome, grounded, degraded, started)


def draft(stages: Stages, request: DraftRequest) -> DraftResponse:
    """One draft, every stage in order."""
    started = time.perf_counter()
    plan = prepare(stages, request)
    completion, degraded = stages.compose(request, plan.context)
    return finish(stages, request, plan, completion, degraded, started)


def triage(stages: TriageStages, request: TriageRequest) -> TriageResponse:
    """One triage, every stage in order: the bot's reply is a draft of the drafting pipeline, checked."""
    texts, asked = stages.asked(request)
    decision = stages.decide(request, texts, stages.read(asked))
    return stages.respond(request, decision, stages.reply(request, decision))
