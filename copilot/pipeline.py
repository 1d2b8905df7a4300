"""The drafting pipeline, in the order of the architecture picture: understand -> locate the step -> plan the
acts -> retrieve -> compose -> check and repair -> respond. Each stage is one method of the `Stages` (the
drafter holds the components); this module only runs them in order over one state, the draft plan. Triage is
a second, shorter pipeline: read what the customer asks, decide, reply (through the drafts) or hand off."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from copilot.compose.base import Completion, DraftContext
from copilot.compose.plan import ReplyPlan
from copilot.contracts import DraftRequest, DraftResponse
from copilot.flow.flows import Flow
from copilot.flow.tracker import StepLocation
from copilot.guardrails.repair import RepairOutcome
from copilot.understand.understanding import Understanding

if TYPE_CHECKING:  # the triage engine drafts its answers through this module
    from copilot.triage.contracts import AutoReply, TriageRequest, TriageResponse
    from copilot.triage.engine import TriageDecision, TriageReading

# Understanding a conversation and searching (model calls, Python work) runs in at most one request thread per
# core: more threads only take the interpreter lock from each other and from the model, and a server at
# concurrency 8 answered its slowest drafts 30 % later. The LLM call is outside, so slow LLMs still overlap.
CPU_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


@dataclass(frozen=True)
class DraftPlan:
    """What the pipeline knows before the model writes: the flow, where the conversation stands, the acts of
    the reply and the context the model writes from."""

    flow: Flow
    location: StepLocation
    context: DraftContext
    reply: ReplyPlan | None = None


class Stages(Protocol):
    """The stages of a draft, one verb each."""

    def validate(self, request: DraftRequest) -> Flow: ...
    def language(self, request: DraftRequest) -> str: ...
    def understand(self, request: DraftRequest, flow: Flow, language: str) -> Understanding | None: ...
    def locate(
        self, request: DraftRequest, flow: Flow, understanding: Understanding | None
    ) -> StepLocation: ...
    def plan(self, request: DraftRequest, flow: Flow, location: StepLocation,
             understanding: Understanding | None) -> ReplyPlan | None: ...
    def context(self, request: DraftRequest, flow: Flow, location: StepLocation, reply: ReplyPlan | None,
                language: str) -> DraftContext: ...
    def compose(self, request: DraftRequest, context: DraftContext) -> tuple[Completion, bool]: ...
    def check(
        self, request: DraftRequest, plan: DraftPlan, completion: Completion
    ) -> tuple[RepairOutcome, bool]: ...
    def respond(self, plan: DraftPlan, completion: Completion, outcome: RepairOutcome, grounded: bool,
                degraded: bool, started: float) -> DraftResponse: ...


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


class TriageStages(Protocol):
    """The stages of a first-line triage, one verb each."""

    def asked(self, request: TriageRequest) -> tuple[list[str], str]: ...
    def read(self, asked: str) -> TriageReading: ...
    def decide(self, request: TriageRequest, texts: list[str], reading: TriageReading) -> TriageDecision: ...
    def reply(self, request: TriageRequest, decision: TriageDecision) -> AutoReply | None: ...
    def respond(self, request: TriageRequest, decision: TriageDecision,
                auto_reply: AutoReply | None = None) -> TriageResponse: ...


def triage(stages: TriageStages, request: TriageRequest) -> TriageResponse:
    """One triage, every stage in order: the bot's reply is a draft of the drafting pipeline, checked."""
    texts, asked = stages.asked(request)
    decision = stages.decide(request, texts, stages.read(asked))
    return stages.respond(request, decision, stages.reply(request, decision))
