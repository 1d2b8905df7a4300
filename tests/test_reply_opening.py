"""A reply apologises once: an answer whose reply opens with empathy performs the empathy act itself (no
template before it), read by the sentence act model the flow's labelled transcripts teach."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.plans import ACTS, FLOW

from copilot.compose.plan import plan_reply
from copilot.flow.flows import FlowExamples, LabelledTurn
from copilot.flow.learned import MIN_TURNS, SentenceActs, teach
from copilot.flow.tracker import StepTracker
from copilot.understand.understanding import Understanding
from copilot.understand.units import AnswerUnit

UNIT = AnswerUnit(id="broken-unit", title="Broken", kind="macro", path=Path("broken.md"), needs=("broken",),
                  when={}, platforms=(), replies={"en": ("Reply", "So sorry it broke. Press Return/Refund.")},
                  descriptions=())


def _upset(answer: bool = True) -> Understanding:
    return Understanding(language="en", need="broken", need_confidence=0.9, answer=UNIT if answer else None,
                         confidence=0.9 if answer else 0.3, upset=True,
                         question="" if answer else "Which one?")


@pytest.mark.parametrize("tracked", ["opening", "sympathy", "solution"])
def test_an_answer_opening_with_empathy_performs_it_instead_of_the_template(tracked: str) -> None:
    plan = plan_reply(FLOW, ACTS, tracked, _upset(), opens="sympathy")
    assert "sympathy" in plan.acts
    assert not [part for part in plan.parts if part.step.id == "sympathy" and not part.text]
    assert plan.parts[-1].answer and plan.parts[-1].also == ("sympathy",)


@pytest.mark.parametrize("opens", [None, "solution", "closing"])
def test_an_answer_opening_otherwise_keeps_the_empathy_template_before_it(opens: str | None) -> None:
    plan = plan_reply(FLOW, ACTS, "solution", _upset(), opens=opens)
    assert plan.acts == ["sympathy", "solution"] and not plan.parts[0].text and plan.parts[1].also == ()


def test_a_question_after_empathy_keeps_the_template_whatever_the_answer_would_open_with() -> None:
    plan = plan_reply(FLOW, ACTS, "questions", _upset(answer=False), opens="sympathy")
    assert plan.acts == ["sympathy", "questions"] and not plan.parts[0].text


def test_a_calm_customer_gets_no_empathy_act_even_when_the_answer_apologises() -> None:
    calm = Understanding(language="en", need="broken", need_confidence=0.9, answer=UNIT, confidence=0.9)
    assert plan_reply(FLOW, ACTS, "solution", calm, opens="sympathy").acts == ["solution"]


TURNS = [
    *(LabelledTurn(text=text, acts=("sympathy",)) for text in (
        "I am so sorry, that must be really annoying.", "Oh no, I understand how upsetting this is.",
        "Sorry for the hassle, I get why you are frustrated.", "Em rất xin lỗi, chắc chị bực lắm ạ.")),
    *(LabelledTurn(text=text, acts=("solution",)) for text in (
        "Open Settings and switch the widget on.", "Press Return/Refund in the order and pick a reason.",
        "Clear the cache, then reload the page.", "Chị bấm nút Trả hàng trong đơn nhé.")),
    LabelledTurn(text="Hi, welcome. Open Settings.", acts=("opening", "solution")),  # two acts: not learned
]


def test_the_sentence_act_model_reads_a_sentence_and_survives_its_state() -> None:
    model = SentenceActs(TURNS)
    assert model.act("I am really sorry, I understand how annoying that is.") == "sympathy"
    assert model.act("Open the order and press Return/Refund.") == "solution"
    again = SentenceActs.from_state(model.state())
    for sentence in ("so sorry about this", "switch it on in Settings", "Em xin lỗi chị ạ"):
        assert again.act(sentence) == model.act(sentence)


def test_the_sentence_act_model_needs_two_acts() -> None:
    with pytest.raises(ValueError, match="two acts"):
        SentenceActs([LabelledTurn(text="Sorry!", acts=("sympathy",))])


def test_transcripts_whose_single_act_messages_all_perform_one_act_teach_no_sentence_model() -> None:
    """A team's transcripts may label every single-act message alike: the tracker then reads no sentence acts
    (and a start does not fail)."""
    alike = [LabelledTurn(text=f"Press the button number {n}.", acts=("solution",)) for n in range(MIN_TURNS)]
    assert teach(StepTracker(FLOW), FlowExamples(turns=tuple(alike))).sentence_acts is None
    mixed = [*alike, LabelledTurn(text="So sorry about that.", acts=("sympathy",))]
    assert teach(StepTracker(FLOW), FlowExamples(turns=tuple(mixed))).sentence_acts is not None
