"""A six-step flow of the tests' own, with the acts of its steps, for the reply-plan tests (no knowledge
folder: the plan reads only the flow and what the understanding stage read)."""

from __future__ import annotations

from copilot.flow.flows import Flow, FlowStep
from copilot.understand.config import FlowActs

STEPS = ("opening", "sympathy", "questions", "expectation", "solution", "closing")
FLOW = Flow(id="support", title="Support", steps=tuple(
    FlowStep(id=step, title=step.title(), goal=f"{step} goal", knowledge=step in ("expectation", "solution"))
    for step in STEPS))
ACTS = FlowActs(open="opening", empathy="sympathy", ask="questions", answer="solution", hold="expectation")
