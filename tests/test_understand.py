"""The understanding stage on a small knowledge base made here: answers it is sure of, the one question that
tells close answers apart, an answer already sent, how a customer is addressed, the conversation's
language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import document

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.knowledge import KnowledgeBase
from copilot.understand.address import address_form, addressed, bare_name
from copilot.understand.config import Address
from copilot.understand.language import conversation_language
from copilot.understand.selector import Ranked
from copilot.understand.understanding import Understander, _covering
from copilot.understand.units import AnswerUnit

ANSWERS = """\
threshold: 0.7
conditions:
  parcel:
    values: [at_home, on_the_way]
    ask: {en: "Has the parcel left our warehouse yet?", vi: "Kiện hàng đã rời kho chưa ạ?"}
questions:
  stop_order: {en: "Which order would you like to stop?"}
  _unknown: {en: "What can I help you with?"}
address: {generic: "anh/chị", forms: [anh, chị]}
"""
EXAMPLES = """\
examples:
  - {text: "please stop my order, you have not sent it yet", answer: stop-before}
  - {text: "cancel it before you ship it please", answer: stop-before}
  - {text: "I ordered by mistake an hour ago, not packed yet, cancel", answer: stop-before}
  - {text: "the courier already has it but I want to stop the order", answer: stop-after}
  - {text: "it is on the way already, can I still cancel", answer: stop-after}
  - {text: "parcel is in transit, I do not want it any more", answer: stop-after}
  - {text: "which colours does the lamp come in", answer: lamp-colours}
  - {text: "is the lamp available in white or black", answer: lamp-colours}
  - {text: "what colour options for the desk lamp", answer: lamp-colours}
"""


def _unit(doc_id: str, reply: str, **meta: str) -> str:
    return document(
        doc_id,
        doc_id.replace("-", " "),
        f"# {doc_id}\n\n## When to use\n{doc_id}\n\n## Reply\n{reply}",
        kind="macro",
        **meta,
    )


def _small_knowledge(make_knowledge: Callable[..., Path], lamp: str, answers: str = ANSWERS) -> Path:
    """Two stop-order units that differ in a condition and a lamp unit, with answers.yaml and examples."""
    root = make_knowledge({
        "macros/stop-before.md": _unit("stop-before", "You can stop it yourself with the Cancel button.",
                                       answers="[stop_order]", when="{parcel: at_home}"),
        "macros/stop-after.md": _unit("stop-after", "It has left: refuse the parcel at the door.",
                                      answers="[stop_order]", when="{parcel: on_the_way}"),
        "macros/lamp-colours.md": lamp,
    })
    (root / "answers.yaml").write_text(answers, encoding="utf-8")
    (root / "answer-examples").mkdir()
    (root / "answer-examples" / "examples.yaml").write_text(EXAMPLES, encoding="utf-8")
    return root


@pytest.fixture
def understander(make_knowledge: Callable[..., Path]) -> Understander:
    lamp = _unit("lamp-colours", "The lamp comes in white and black.", answers="[product]")
    return Understander(KnowledgeBase.load(_small_knowledge(make_knowledge, lamp)), embedder=None)


def _customer(*texts: str) -> list[Message]:
    return [Message(role="customer", text=text) for text in texts]


def test_a_clear_need_is_answered_by_its_unit(understander: Understander) -> None:
    reading = understander.read(
        _customer("the parcel is already on the way, I want to cancel it"), "livechat", "en"
    )
    assert reading.answer is not None and reading.answer.id == "stop-after"
    assert reading.confidence >= understander.config.threshold


def test_close_answers_that_differ_in_a_condition_ask_that_condition(understander: Understander) -> None:
    reading = understander.read(_customer("cancel order"), "livechat", "en")
    assert reading.answer is None
    assert reading.condition == "parcel"
    assert reading.question == "Has the parcel left our warehouse yet?"


def test_an_answer_already_sent_is_not_sent_again(understander: Understander) -> None:
    messages = [*_customer("which colours does the lamp come in?"),
                Message(role="agent", text="The lamp comes in white and black."),
                *_customer("which colours does the lamp come in?")]
    reading = understander.read(messages, "livechat", "en")
    assert reading.answer is None
    assert any("already sent" in reason for reason in reading.reasons)


def test_a_unit_naming_an_undeclared_condition_is_named_with_its_file(
    make_knowledge: Callable[..., Path],
) -> None:
    root = make_knowledge({"macros/x.md": _unit("x-unit", "Hi.", answers="[a]", when="{colour: red}")})
    (root / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"x\.md.*unknown condition 'colour'"):
        Understander(KnowledgeBase.load(root), embedder=None)


def test_an_example_naming_no_unit_is_named_with_its_file_and_line(
    make_knowledge: Callable[..., Path],
) -> None:
    root = make_knowledge({"macros/x.md": _unit("x-unit", "Hi.", answers="[a]")})
    (root / "answer-examples").mkdir()
    (root / "answer-examples" / "bad.yaml").write_text("examples:\n  - {text: hi, answer: nope}\n", "utf-8")
    with pytest.raises(
        KnowledgeError, match=r"bad\.yaml: field 'examples\.0\.answer'.*'nope' is not an answer unit"
    ):
        Understander(KnowledgeBase.load(root), embedder=None)


def test_the_conversation_names_how_the_customer_is_addressed() -> None:
    address = Address(generic="anh/chị", forms=("anh", "chị", "bạn"))
    assert address_form(address, ["Dạ em chào chị Lan ạ"], None) == "chị"
    assert address_form(address, ["Dạ anh/chị chờ em chút ạ"], None) is None
    assert address_form(address, [], "Anh Tuấn") == "anh"
    assert bare_name(address, "Anh Tuấn") == "Tuấn"
    assert (
        addressed("Anh/chị yên tâm, em gửi anh/chị Lan nhé", address, "chị")
        == "Chị yên tâm, em gửi chị Lan nhé"
    )


def test_a_last_message_that_is_only_a_url_keeps_an_english_chat_english() -> None:
    customer = ["hello, my popup stopped showing on my store", "sure, name-shop.myshopify.com"]
    assert conversation_language(customer, ["Could you share your store URL?"], prior="en") == "en"
    assert conversation_language(["shop ơi"], [], prior="en") == "vi"
    assert conversation_language(["123456"], [], prior="vi") == "vi"



def _bare_unit(unit_id: str, when: dict[str, str], needs: tuple[str, ...] = ("stop_order",)) -> AnswerUnit:
    return AnswerUnit(
        id=unit_id,
        title=unit_id,
        kind="macro",
        path=Path(f"{unit_id}.md"),
        needs=needs,
        when=when,
        platforms=(),
        replies={"en": ("Reply", unit_id)},
        descriptions=(),
    )


BEFORE = _bare_unit("stop-before", {"parcel": "at_home"})
AFTER = _bare_unit("stop-after", {"parcel": "on_the_way"})
EITHER = _bare_unit("stop-either", {"parcel": "any"})
LAMP = _bare_unit("lamp", {}, needs=("product",))


def test_a_reply_right_under_every_value_answers_when_it_and_the_units_it_covers_are_sure_together() -> None:
    found = _covering(Ranked([(BEFORE, 0.5), (EITHER, 0.35), (AFTER, 0.1), (LAMP, 0.05)]), threshold=0.8)
    assert found is not None and found[0] is EITHER and found[1] == pytest.approx(0.95)


def test_a_told_condition_leaves_the_units_for_its_value_and_the_general_reply() -> None:
    told = Ranked([(BEFORE, 0.6), (EITHER, 0.3), (AFTER, 0.1)]).given({"parcel": "at_home"})
    assert [unit for unit, _ in told.units] == [BEFORE, EITHER]
    found = _covering(told, threshold=0.8)
    assert found is not None and found[0] is EITHER and found[1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "ranked",
    [
        [
            (BEFORE, 0.5),
            (AFTER, 0.45),
            (EITHER, 0.05),
        ],  # a request for one order: the general reply is only third
        [(LAMP, 0.5), (EITHER, 0.3), (BEFORE, 0.1)],  # the other likely unit answers another need
    ],
)
def test_the_general_reply_does_not_answer_for_a_request_or_another_need(
        ranked: list[tuple[AnswerUnit, float]]) -> None:
    assert _covering(Ranked(ranked), threshold=0.8) is None


def test_any_is_accepted_as_a_condition_value_and_other_values_are_named(
    make_knowledge: Callable[..., Path],
) -> None:
    root = make_knowledge({"macros/x.md": _unit("x-unit", "Hi.", answers="[a]", when="{parcel: any}")})
    (root / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    assert Understander(KnowledgeBase.load(root), embedder=None).units[0].when == {"parcel": "any"}
    (root / "macros" / "x.md").write_text(
        _unit("x-unit", "Hi.", answers="[a]", when="{parcel: lost}"), "utf-8"
    )
    with pytest.raises(KnowledgeError, match=r"'lost' is not a value of 'parcel'"):
        Understander(KnowledgeBase.load(root), embedder=None)


LAMP_WITH_FACETS = document(
    "lamp-colours",
    "lamp colours",
    "# Lamp\n\n## When to use\nQuestions about the desk lamp.\n\n"
    "## Reply\nThe lamp comes in white and black.\n\n"
    "## Reply: how long the warranty lasts\n"
    "Every lamp has a two-year warranty from the day it is delivered.\n\n"
    "## Reply: which bulb it takes\nIt takes a standard E27 bulb, up to 9 watts LED.\n",
    kind="macro",
    answers="[product]",
)


def test_a_reply_section_naming_a_question_is_a_facet_of_its_unit(
    make_knowledge: Callable[..., Path],
) -> None:
    from copilot.understand.units import answer_units

    knowledge = KnowledgeBase.load(make_knowledge({"macros/lamp.md": LAMP_WITH_FACETS}))
    units = answer_units(knowledge.documents, knowledge.sections)
    lamp = next(unit for unit in units if unit.id == "lamp-colours")
    assert lamp.reply("en") == ("Reply", "The lamp comes in white and black.")
    assert lamp.facets["en"] == (
        ("how long the warranty lasts", "Every lamp has a two-year warranty from the day it is delivered."),
        ("which bulb it takes", "It takes a standard E27 bulb, up to 9 watts LED."),
    )


@pytest.mark.slow
def test_the_customer_gets_the_facet_they_ask_about(make_knowledge: Callable[..., Path]) -> None:
    from copilot.retrieval.embedders import SentenceTransformerEmbedder

    root = _small_knowledge(
        make_knowledge, LAMP_WITH_FACETS, ANSWERS.replace("threshold: 0.7", "threshold: 0.3")
    )
    understander = Understander(KnowledgeBase.load(root), embedder=SentenceTransformerEmbedder())
    asked = "for the desk lamp, how many years of guarantee do I get?"
    guarantee = understander.read(_customer(asked), "livechat", "en")
    assert guarantee.answer is not None and guarantee.answer.id == "lamp-colours"
    assert guarantee.facet is not None and guarantee.facet[0] == "how long the warranty lasts"
    assert guarantee.reply() == (
        "Reply",
        "Every lamp has a two-year warranty from the day it is delivered. The lamp comes in white and black.",
    )
    colours = understander.read(_customer("what colour options for the desk lamp?"), "livechat", "en")
    assert colours.answer is not None and colours.facet is None
    assert colours.reply() == ("Reply", "The lamp comes in white and black.")


def test_a_facet_belongs_to_the_reply_it_follows_whatever_words_it_holds(
    make_knowledge: Callable[..., Path],
) -> None:
    """An English facet naming Vietnamese buttons stays English, and never becomes the Vietnamese reply."""
    from copilot.understand.units import answer_units

    body = (
        "# Refund\n\n## When to use\nA buyer wants a refund.\n\n"
        "## Reply (English)\nPress Return/Refund on the "
        "order.\n\n## Reply (English): on Lazada or Tiki\nOn Shopee press Trả hàng/Hoàn tiền; on Lazada and "
        "Tiki send the request from the order details.\n\n## Trả lời mẫu (Tiếng Việt)\nDạ anh/chị bấm Trả "
        "hàng/Hoàn tiền trên đơn hàng giúp shop ạ.\n"
    )
    root = make_knowledge({"macros/refund.md": document("refund-unit", "Refund", body, kind="macro",
                                                         answers="[refund]")})
    knowledge = KnowledgeBase.load(root)
    unit = next(u for u in answer_units(knowledge.documents, knowledge.sections) if u.id == "refund-unit")
    assert unit.reply("vi") == (
        "Trả lời mẫu (Tiếng Việt)",
        "Dạ anh/chị bấm Trả hàng/Hoàn tiền trên đơn hàng giúp shop ạ.",
    )
    assert [question for question, _ in unit.facets["en"]] == [
        "on Lazada or Tiki"
    ] and "vi" not in unit.facets


PARCEL_TOLD = """\
condition: parcel
examples:
  - {text: "the parcel left our warehouse this morning", value: on_the_way}
  - {text: "your box is with the courier now", value: on_the_way}
  - {text: "it has been dispatched and is on its way", value: on_the_way}
  - {text: "the van picked it up yesterday", value: on_the_way}
  - {text: "tracking shows it in transit", value: on_the_way}
  - {text: "we have not sent it yet, it is still at home in our warehouse", value: at_home}
  - {text: "your order is still being packed", value: at_home}
  - {text: "it is waiting in our warehouse for pickup", value: at_home}
  - {text: "nothing has been dispatched yet", value: at_home}
  - {text: "the box has not left us", value: at_home}
  - {text: "has the parcel left yet?", value: none}
  - {text: "is it with the courier already?", value: none}
  - {text: "I want to stop my order", value: none}
  - {text: "hello there", value: none}
  - {text: "which colours does the lamp come in", value: none}
  - {text: "thank you so much", value: none}
  - {text: "can you check where my order is", value: none}
  - {text: "let me look into that for you", value: none}
"""


def _told_knowledge(make_knowledge: Callable[..., Path], told: str = PARCEL_TOLD) -> KnowledgeBase:
    lamp = _unit("lamp-colours", "The lamp comes in white and black.", answers="[product]")
    root = _small_knowledge(make_knowledge, lamp)
    (root / "condition-examples").mkdir()
    (root / "condition-examples" / "parcel.yaml").write_text(told, encoding="utf-8")
    return KnowledgeBase.load(root)


def test_a_condition_the_agent_already_stated_is_not_asked_again(make_knowledge: Callable[..., Path]) -> None:
    understander = Understander(_told_knowledge(make_knowledge), embedder=None)
    messages = [
        *_customer("cancel order"),
        Message(role="agent", text="I checked: the courier picked it up today."),
        *_customer("so can I still cancel?"),
    ]
    reading = understander.read(messages, "livechat", "en")
    assert reading.told["parcel"].value == "on_the_way"
    assert reading.answer is not None and reading.answer.id == "stop-after"
    assert reading.condition is None and any("parcel is on_the_way" in reason for reason in reading.reasons)


def test_a_question_about_a_condition_does_not_state_it(make_knowledge: Callable[..., Path]) -> None:
    understander = Understander(_told_knowledge(make_knowledge), embedder=None)
    reading = understander.read(_customer("cancel order", "has it left the warehouse yet?"), "livechat", "en")
    assert "parcel" not in reading.told
    assert reading.answer is None and reading.condition == "parcel"


def test_a_condition_example_with_an_undeclared_value_is_named(make_knowledge: Callable[..., Path]) -> None:
    bad = PARCEL_TOLD + '  - {text: "it arrived", value: delivered}\n'
    with pytest.raises(
        KnowledgeError, match=r"parcel\.yaml: field 'examples\.18\.value'.*'delivered' is not a value"
    ):
        Understander(_told_knowledge(make_knowledge, bad), embedder=None)
