"""The reply plan: which acts one message performs, in order, and what each says.

A first reply greets and answers a question already asked; an upset customer with a known need gets empathy
and the answer in the same message; a question is asked only when the answer is not sure, and then it is the
one that tells the candidates apart or names the topic, or at the asking step, when the sure answer's unit
says which details its procedure needs first; a draft that is not sure never sends a policy.

When the flow's labelled conversations taught when a reply answers (`answers_now`, the chance that the next
reply gives the answer at this moment), a sure answer is sent at a holding, asking or reporting moment where
that chance reaches `PROMOTE`, and held back at the answering step where it is under `HOLD_BACK`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from copilot.flow.flows import Flow, FlowStep
from copilot.understand.config import FlowActs
from copilot.understand.understanding import Understanding

# Chosen on the development sets (holdout2 en and vi, 2026-12-07): the learned chance that a reply answers
# moves a sure answer to or from the tracked step at these levels (README, "When a reply answers").
PROMOTE = 0.4
HOLD_BACK = 0.3


@dataclass(frozen=True)
class Part:
    """One act of the reply: the flow step it performs and its fixed text (an answer or a question); an empty
    text means the step's own template."""

    step: FlowStep
    text: str = ""
    answer: bool = False
    cites: bool = False  # the text comes from the answer unit (its ask-first message), which it cites
    also: tuple[str, ...] = ()  # acts its text performs before its step's (an answer that opens with empathy)


@dataclass(frozen=True)
class ReplyPlan:
    """The acts of one reply; `step` stays the flow step where the conversation is (the contract's `step`)."""

    parts: tuple[Part, ...]
    understanding: Understanding
    step: FlowStep

    @property
    def acts(self) -> list[str]:
        return [act for part in self.parts for act in (*part.also, part.step.id)]

    @property
    def answers(self) -> bool:
        return any(part.answer for part in self.parts)

    @property
    def asks_first(self) -> bool:
        """The reply asks the answer unit's details before answering (it cites the unit, sends no answer)."""
        return any(part.cites for part in self.parts)


def plan_reply(flow: Flow, acts: FlowActs, tracked: str, understanding: Understanding,
               forced: bool = False, answers_now: float | None = None, opens: str | None = None) -> ReplyPlan:
    """The acts for a reply at the tracked step, given what the conversation says and, when the flow's
    labelled conversations taught it, the chance that a reply answers at this moment and the act the
    answer's reply opens with (`opens`: its first sentence, read by what the labelled sentences taught)."""
    u = understanding
    if answers_now is not None and u.answer is not None and not forced:
        tracked, u = _when_to_answer(acts, tracked, u, answers_now)
    reply = u.reply()
    answer = Part(flow.step(acts.answer), reply[1], True) if reply else None
    ask = Part(flow.step(acts.ask), u.question) if u.question else None
    step = flow.step(tracked)
    if forced:
        parts = (answer,) if answer and tracked in (acts.answer, acts.hold) else (Part(step),)
        return ReplyPlan(parts, u, step)
    if tracked == acts.open:
        follow = answer or (ask if u.need else None)
        soothed = _with_empathy(flow, acts, follow, opens) if u.upset else ((follow,) if follow else ())
        return ReplyPlan((Part(step), *soothed), u, step)
    if tracked == acts.empathy:
        follow = answer or (ask if u.condition else None)
        return ReplyPlan(_with_empathy(flow, acts, follow, opens), u, step)
    if tracked in (acts.ask, acts.answer):
        part = _answering(flow, acts, tracked, answer, ask, u)
        if part.step.id == acts.hold or not u.upset:  # a holding reply says the agent is on it already
            return ReplyPlan((part,), u, step)
        return ReplyPlan(_with_empathy(flow, acts, part, opens), u, step)
    return ReplyPlan((Part(step),), u, step)


def _with_empathy(flow: Flow, acts: FlowActs, follow: Part | None, opens: str | None) -> tuple[Part, ...]:
    """The empathy act, then `follow` (the answer or the question): an answer whose reply opens with empathy
    performs it itself, so that a reply apologises once. Without an empathy step in the flow, `follow`."""
    if not acts.empathy:
        return (follow,) if follow else ()
    if follow is not None and follow.answer and opens == acts.empathy:
        return (replace(follow, also=(acts.empathy,)),)
    return (Part(flow.step(acts.empathy)), *([follow] if follow else []))


def _promoting(acts: FlowActs) -> set[str]:
    """The steps where a sure answer may be sent when replies usually answer there."""
    return {acts.hold, acts.ask, *([acts.report] if acts.report else [])}


def weighs_answering(acts: FlowActs, tracked: str) -> bool:
    """Whether the learned chance that a reply answers can change the plan at the tracked step (so that a
    draft elsewhere does not read the moment for it)."""
    return tracked == acts.answer or tracked in _promoting(acts)


def _when_to_answer(acts: FlowActs, tracked: str, u: Understanding,
                    answers_now: float) -> tuple[str, Understanding]:
    """The tracked step and the understanding, moved by the learned chance that a reply answers here: a sure
    answer is given at a holding, asking or reporting moment where replies usually answer (its details are
    not asked first), and held back at the answering step where they usually do not."""
    moments = _promoting(acts)
    unit = u.answer.id if u.answer is not None else ""
    if answers_now >= PROMOTE and tracked in moments:
        reason = f"replies answer at such moments ({answers_now:.2f}): {unit} is sent at {tracked}"
        return acts.answer, replace(u, ask_first="", reasons=[*u.reasons, reason])
    if answers_now < HOLD_BACK and tracked == acts.answer:
        reason = f"replies rarely answer at such moments ({answers_now:.2f}): {unit} is held back"
        return tracked, replace(u, answer=None, facet=None, ask_first="", reasons=[*u.reasons, reason])
    return tracked, u


def _answering(flow: Flow, acts: FlowActs, tracked: str, answer: Part | None, ask: Part | None,
               u: Understanding) -> Part:
    """At a step that asks or answers: the answer when sure (at the asking step, its unit's ask-first message
    when it has one not sent yet), else the telling question, else what the agent will check."""
    if answer is not None and tracked == acts.ask and u.ask_first:
        return Part(flow.step(acts.ask), u.ask_first, cites=True)
    if answer is not None:
        return answer
    if ask is not None and (u.condition or tracked == acts.ask):
        return ask
    if tracked == acts.answer:
        return Part(flow.step(acts.hold))
    return Part(flow.step(tracked))
