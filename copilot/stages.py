"""The stages of the two pipelines, one verb each, and the draft plan they fill: the drafter implements
`Stages`, the triage engine `TriageStages`; `copilot/pipeline.py` runs them in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from copilot.compose.base import Completion, DraftContext
from copilot.compose.plan import ReplyPlan
from copilot.contracts import DraftRequest, DraftResponse
from copilot.flow.flows import Flow
from copilot.flow.tracker import StepLocation
from copilot.guardrails.repair import RepairOutcome
from copilot.understand.understanding import Understanding

if TYPE_CHECKING:  # the triage engine drafts its answers through the drafting pipeline
    from copilot.triage.contracts import AutoReply, TriageRequest, TriageResponse
    from copilot.triage.engine import TriageDecision, TriageReading


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


class TriageStages(Protocol):
    """The stages of a first-line triage, one verb each."""

    def asked(self, request: TriageRequest) -> tuple[list[str], str]: ...
    def read(self, asked: str) -> TriageReading: ...
    def decide(self, request: TriageRequest, texts: list[str], reading: TriageReading) -> TriageDecision: ...
    def reply(self, request: TriageRequest, decision: TriageDecision) -> AutoReply | None: ...
    def respond(self, request: TriageRequest, decision: TriageDecision,
                auto_reply: AutoReply | None = None) -> TriageResponse: ...
