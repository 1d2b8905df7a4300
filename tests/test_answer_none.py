"""Examples labelled `none` (messages no unit answers) teach the selector when to hold back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import document

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.knowledge import KnowledgeBase
from copilot.understand.selector import Ranked
from copilot.understand.understanding import Understander
from copilot.understand.units import AnswerUnit

ANSWERS = "threshold: 0.7\nquestions:\n  _unknown: {en: \"What can I help you with?\"}\n"
EXAMPLES = """\
examples:
  - {text: "which colours does the kettle come in", answer: kettle-colours}
  - {text: "is the kettle sold in red or in steel grey", answer: kettle-colours}
  - {text: "what colour options are there for the kettle", answer: kettle-colours}
  - {text: "how many litres does the kettle hold", answer: kettle-size}
  - {text: "what is the capacity of the kettle", answer: kettle-size}
  - {text: "is the kettle big enough for six cups", answer: kettle-size}
"""
NONE_EXAMPLES = """\
examples:
  - {text: "my kettle arrived with a scratch on the lid, what now", answer: none}
  - {text: "the kettle makes a whistling noise, is that normal", answer: none}
  - {text: "can I pick the kettle up from your warehouse", answer: none}
  - {text: "my kettle stopped heating after a week", answer: none}
"""
ASKED = "the kettle I got last week no longer heats the water"


def _unit(doc_id: str, reply: str) -> str:
    body = f"# {doc_id}\n\n## When to use\n{doc_id.replace('-', ' ')}\n\n## Reply\n{reply}"
    return document(doc_id, doc_id.replace("-", " "), body, kind="macro", answers="[product]")


def _understander(make_knowledge: Callable[..., Path], with_none: bool) -> Understander:
    examples = {"answer-examples/units.yaml": EXAMPLES, "answer-examples/none.yaml": NONE_EXAMPLES}
    if not with_none:
        examples["answer-examples/none.yaml"] = None
    root = make_knowledge({
        "macros/kettle-colours.md": _unit("kettle-colours", "The kettle comes in red and steel grey."),
        "macros/kettle-size.md": _unit("kettle-size", "The kettle holds 1.7 litres."),
        "answers.yaml": ANSWERS, **examples,
    })
    return Understander(KnowledgeBase.load(root), embedder=None)


def test_a_message_like_the_none_examples_is_not_answered(make_knowledge: Callable[..., Path]) -> None:
    messages = [Message(role="customer", text=ASKED)]
    without = _understander(make_knowledge, with_none=False).read(messages, "livechat", "en")
    held = _understander(make_knowledge, with_none=True).read(messages, "livechat", "en")
    assert without.answer is not None  # with no `none` examples the selector answers with some unit
    assert held.answer is None and held.confidence < 0.7


def test_the_none_examples_leave_the_units_answering_what_they_answer(
    make_knowledge: Callable[..., Path],
) -> None:
    understander = _understander(make_knowledge, with_none=True)
    asked = [Message(role="customer", text="what colours is the kettle in")]
    reading = understander.read(asked, "livechat", "en")
    assert reading.answer is not None and reading.answer.id == "kettle-colours"


def _bare(unit_id: str, when: dict[str, str]) -> AnswerUnit:
    return AnswerUnit(id=unit_id, title=unit_id, kind="macro", path=Path(f"{unit_id}.md"), needs=("product",),
                      when=when, platforms=(), replies={"en": ("Reply", unit_id)}, descriptions=())


def test_a_told_condition_keeps_the_mass_of_no_unit() -> None:
    near, far = _bare("near", {"parcel": "home"}), _bare("far", {"parcel": "away"})
    ranked = Ranked([(near, 0.5), (far, 0.2)], none=0.3).given({"parcel": "home"})
    assert [unit.id for unit, _ in ranked.units] == ["near"]
    assert ranked.units[0][1] == pytest.approx(0.5 / 0.8)
    assert ranked.none == pytest.approx(0.3 / 0.8)


def test_a_document_named_none_is_refused(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge({"macros/none.md": _unit("none", "Hello.")})
    with pytest.raises(KnowledgeError, match=r"named 'none'"):
        Understander(KnowledgeBase.load(root), embedder=None)
