"""The acts one reply performs: greet and answer, empathy and answer, ask only when not sure, hold back."""

from __future__ import annotations

from pathlib import Path

from helpers.plans import ACTS, FLOW, STEPS

from copilot.compose.plan import plan_reply, weighs_answering
from copilot.understand.understanding import Understanding
from copilot.understand.units import AnswerUnit

UNIT = AnswerUnit(id="refund-unit", title="Refunds", kind="macro", path=Path("refund.md"), needs=("refund",),
                  when={}, platforms=(), replies={"en": ("Reply", "Press Return/Refund in the order.")},
                  descriptions=())


def _understanding(answer: bool = False, question: str = "", need: str | None = "refund", upset: bool = False,
                   condition: str | None = None) -> Understanding:
    return Understanding(language="en", need=need, need_confidence=0.9 if need else 0.0,
                         answer=UNIT if answer else None, confidence=0.8 if answer else 0.3,
                         question=question, condition=condition, upset=upset)


def test_a_first_reply_to_a_question_it_can_answer_greets_and_answers() -> None:
    plan = plan_reply(FLOW, ACTS, "opening", _understanding(answer=True))
    assert (plan.step.id, plan.acts) == ("opening", ["opening", "solution"])
    assert plan.parts[1].text == "Press Return/Refund in the order." and plan.answers


def test_an_upset_first_message_gets_empathy_between_the_greeting_and_the_answer() -> None:
    plan = plan_reply(FLOW, ACTS, "opening", _understanding(answer=True, upset=True))
    assert plan.acts == ["opening", "sympathy", "solution"]


def test_a_first_message_with_a_known_need_but_no_sure_answer_greets_and_asks() -> None:
    plan = plan_reply(FLOW, ACTS, "opening", _understanding(question="Which order?"))
    assert plan.acts == ["opening", "questions"] and plan.parts[1].text == "Which order?" and not plan.answers


def test_a_bare_hello_only_greets() -> None:
    assert plan_reply(FLOW, ACTS, "opening", _understanding(need=None)).acts == ["opening"]


def test_empathy_with_a_known_answer_goes_on_to_the_answer_in_the_same_message() -> None:
    plan = plan_reply(FLOW, ACTS, "sympathy", _understanding(answer=True))
    assert (plan.step.id, plan.acts) == ("sympathy", ["sympathy", "solution"])  # step stays the flow step


def test_probing_when_the_answer_is_sure_answers_instead() -> None:
    plan = plan_reply(FLOW, ACTS, "questions", _understanding(answer=True))
    assert (plan.step.id, plan.acts) == ("questions", ["solution"])


def test_an_upset_customer_gets_empathy_before_the_answer_or_the_question() -> None:
    answering = plan_reply(FLOW, ACTS, "solution", _understanding(answer=True, upset=True))
    assert answering.acts == ["sympathy", "solution"] and answering.parts[1].answer
    asking = plan_reply(FLOW, ACTS, "questions", _understanding(question="Which order?", upset=True))
    assert asking.acts == ["sympathy", "questions"] and asking.parts[1].text == "Which order?"


def test_an_upset_customer_is_not_soothed_when_the_draft_only_says_what_the_agent_will_check() -> None:
    holding = plan_reply(FLOW, ACTS, "solution", _understanding(question="Which order?", upset=True))
    assert holding.acts == ["expectation"]


def test_a_calm_customer_gets_the_answer_alone() -> None:
    assert plan_reply(FLOW, ACTS, "solution", _understanding(answer=True)).acts == ["solution"]


def test_a_sure_answer_waits_while_the_agent_is_checking() -> None:
    assert plan_reply(FLOW, ACTS, "expectation", _understanding(answer=True)).acts == ["expectation"]


def test_not_sure_at_the_answer_step_asks_the_telling_question_or_holds_back() -> None:
    asking = plan_reply(
        FLOW, ACTS, "solution", _understanding(question="Has it shipped?", condition="shipped")
    )
    assert asking.acts == ["questions"] and asking.parts[0].text == "Has it shipped?"
    holding = plan_reply(FLOW, ACTS, "solution", _understanding(question="Which order?"))
    assert holding.acts == ["expectation"] and not holding.parts[0].text


def test_a_forced_step_answers_only_at_the_answer_or_hold_step() -> None:
    assert plan_reply(FLOW, ACTS, "solution", _understanding(answer=True), forced=True).answers
    assert plan_reply(FLOW, ACTS, "closing", _understanding(answer=True), forced=True).acts == ["closing"]


REPORTING = ACTS.model_copy(update={"report": "closing"})


def test_a_sure_answer_is_sent_at_a_holding_or_reporting_moment_where_replies_usually_answer() -> None:
    """The learned chance that a reply answers here moves a sure answer to the answering step."""
    for tracked in ("expectation", "closing", "questions"):
        plan = plan_reply(FLOW, REPORTING, tracked, _understanding(answer=True), answers_now=0.7)
        assert (plan.step.id, plan.acts) == ("solution", ["solution"]) and plan.answers
        assert any("replies answer at such moments (0.70)" in reason for reason in plan.understanding.reasons)
    held = plan_reply(FLOW, REPORTING, "expectation", _understanding(answer=True), answers_now=0.2)
    assert (held.step.id, held.acts) == ("expectation", ["expectation"]) and not held.answers


def test_a_sure_answer_is_held_back_at_the_answering_step_where_replies_rarely_answer() -> None:
    plan = plan_reply(FLOW, ACTS, "solution", _understanding(answer=True), answers_now=0.1)
    assert plan.acts == ["expectation"] and not plan.answers and plan.understanding.answer is None
    sent = plan_reply(FLOW, ACTS, "solution", _understanding(answer=True), answers_now=0.35)
    assert sent.acts == ["solution"] and sent.answers


def test_without_a_learned_chance_or_a_sure_answer_the_tracked_step_stands() -> None:
    assert plan_reply(FLOW, REPORTING, "expectation", _understanding(answer=True)).acts == ["expectation"]
    unsure = plan_reply(FLOW, REPORTING, "expectation", _understanding(question="Which order?"),
                        answers_now=0.9)
    assert unsure.acts == ["expectation"] and not unsure.answers
    forced = plan_reply(FLOW, ACTS, "solution", _understanding(answer=True), forced=True, answers_now=0.0)
    assert forced.answers


def test_the_learned_chance_is_weighed_only_where_it_can_move_the_answer() -> None:
    assert {step for step in STEPS if weighs_answering(REPORTING, step)} == {"questions", "expectation",
                                                                             "solution", "closing"}
    weighed = {step for step in STEPS if weighs_answering(ACTS, step)}
    assert weighed == {"questions", "expectation", "solution"}
