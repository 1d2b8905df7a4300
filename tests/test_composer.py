"""The local composer: templates in the customer's language, slots filled or written around, passage lines
(on a flow of the tests' own; the shipped flow's templates are checked in `test_shipped_templates.py`)."""

from __future__ import annotations

import pytest
import yaml

from copilot.compose.base import DraftContext, DraftPrompt
from copilot.compose.local import LocalComposer, customer_lines, write_around_slots
from copilot.compose.slots import NO_WORDS, SlotWords
from copilot.flow.flows import Flow
from copilot.knowledge import Sections
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.hybrid import SearchHit

FLOW = Flow.model_validate(yaml.safe_load("""
id: livechat
title: Live chat
steps:
  - id: greeting
    title: Greeting
    goal: Greet the customer.
    next: [troubleshoot]
    templates:
      en: ["Good day {customer_name}, {agent_name} with {brand} is on the line."]
      vi: ["Chào chị {customer_name}, em là {agent_name} của {brand} đây ạ."]
  - id: troubleshoot
    title: Troubleshoot
    goal: Solve the problem.
    next: [farewell]
    knowledge: true
    templates:
      en: ["Thanks for bearing with me, {customer_name}. Let me look into it now.",
           "Could you try reloading the page once more?"]
      vi: ["Dạ chị chờ em một chút để em xem lại nhé."]
  - id: farewell
    title: Farewell
    goal: Thank and ask for a review.
    review_ask: true
    templates:
      en: ["Thanks for your time, {customer_name}! A quick review of our help would mean a lot."]
      vi: ["Em cảm ơn chị {customer_name} ạ! Chị đánh giá giúp em một chút nhé."]
"""))
SLOTS = {"customer_name": "Bao", "agent_name": "Quynh", "brand": "Fernleaf"}
SECTIONS = Sections(reply=("reply", "trả lời mẫu", "compliant example"),
                    forbidden=("don't", "không nên"))


def compose(step: str, language: str, slots: dict[str, str], passages: list[SearchHit] | None = None) -> str:
    context = DraftContext(step=FLOW.step(step), language=language, platform="livechat", slots=slots,
                           passages=passages or [], customer_text="I want to stop my order")
    return LocalComposer(SECTIONS).complete(DraftPrompt(messages=[], context=context)).text


def chunk(section: str, text: str, doc_id: str = "doc") -> Chunk:
    return Chunk(id=f"{doc_id}::000", doc_id=doc_id, title="T", section=section, kind="macro", text=text,
                 fingerprint="f", source="x.md")


def test_greeting_in_english_fills_every_slot() -> None:
    assert compose("greeting", "en", SLOTS) == "Good day Bao, Quynh with Fernleaf is on the line."


def test_greeting_in_vietnamese() -> None:
    text = compose("greeting", "vi", {"customer_name": "Hoa", "agent_name": "Tuan", "brand": "Nhà Lá"})
    assert text == "Chào chị Hoa, em là Tuan của Nhà Lá đây ạ."


def test_the_farewell_is_the_customers_languages_template() -> None:
    assert compose("farewell", "en", SLOTS) == ("Thanks for your time, Bao! A quick review of our help would "
                                                "mean a lot.")
    assert compose("farewell", "vi", SLOTS) == "Em cảm ơn chị Bao ạ! Chị đánh giá giúp em một chút nhé."


def test_unknown_slots_are_written_around_never_left() -> None:
    text = compose("greeting", "en", {})
    assert text and "{" not in text and "with ." not in text and " ," not in text


def test_write_around_slots_drops_dangling_words() -> None:
    template = "Hey {customer_name}, you're chatting with {agent_name} from {brand}."
    words = SlotWords(prepositions={"en": ("from",)})  # "from" is cut with the missing brand
    assert write_around_slots(template, {"agent_name": "Quynh"}, words) == "Hey, you're chatting with Quynh."
    assert write_around_slots(template, {"agent_name": "Quynh"}, NO_WORDS) == "Hey."  # without: the clause


def test_knowledge_step_uses_the_reply_section_in_the_customer_language() -> None:
    passages = [
        SearchHit(chunk("Don't say", "- \"Just cancel it and buy it again.\""), 0.9),
        SearchHit(chunk("Reply (English)",
                        "You may press Cancel in the order yourself, {customer_name}."), 0.8),
        SearchHit(chunk("Trả lời mẫu (Tiếng Việt)", "Dạ chị tự bấm Hủy trong đơn là được ạ."), 0.7),
    ]
    assert compose("troubleshoot", "en", SLOTS, passages) == (
        "You may press Cancel in the order yourself, Bao.")
    assert compose("troubleshoot", "vi", SLOTS, passages).startswith("Dạ chị tự bấm Hủy")


def test_forbidden_example_sections_are_never_used() -> None:
    forbidden = chunk("Không nên nói", "- \"Chị hủy đơn hộ shop đi ạ.\"")
    assert customer_lines(forbidden, "vi", SECTIONS) == []
    # no section named: no line sent
    assert customer_lines(chunk("Reply lines", "- \"Hi there!\""), "en", Sections()) == []


def test_the_sendable_headings_are_the_knowledge_bases_folded() -> None:
    sections = Sections(reply=("trả lời mẫu",), forbidden=("don't",))
    assert sections.sendable("Tra loi mau (Tieng Viet)") and sections.sendable("TRẢ LỜI MẪU")
    assert not sections.sendable("Trả lời mẫu: don’t say this") and sections.never("Don't say")
    assert not sections.sendable("Reply (English)")


def test_example_lines_pick_the_closest_to_the_customer() -> None:
    examples = chunk("Compliant example lines", "- \"If you'd rather stop the order, tap Cancel.\"\n"
                     "- \"Your money comes back in 3 days.\"\n- \"Swaps take a week.\"")
    lines = customer_lines(examples, "en", SECTIONS)
    assert len(lines) == 3 and lines[0].startswith("If you'd rather stop the order")


def test_knowledge_step_without_a_usable_passage_falls_back_to_templates() -> None:
    assert compose("troubleshoot", "en", SLOTS, []) in [t.replace("{customer_name}", "Bao")
                                                        for t in FLOW.step("troubleshoot").templates["en"]]


@pytest.mark.parametrize("step", FLOW.step_ids)
def test_every_step_composes_in_both_languages_without_slots(step: str) -> None:
    for language in ("en", "vi"):
        text = compose(step, language, SLOTS)
        assert text and "{" not in text


def test_a_step_without_templates_or_ready_replies_answers_from_the_best_faq_only() -> None:
    bare = FLOW.step("troubleshoot").model_copy(update={"templates": {}})

    def draft(passages: list[SearchHit]) -> tuple[str, list[int]]:
        context = DraftContext(step=bare, language="en", platform="livechat", slots=SLOTS, passages=passages,
                               customer_text="the popup is not showing")
        completion = LocalComposer(SECTIONS).complete(DraftPrompt(messages=[], context=context))
        return completion.text, completion.passages

    def hit(kind: str, section: str, text: str) -> SearchHit:
        return SearchHit(Chunk(id=f"{kind}::000", doc_id=kind, title="T", section=section, kind=kind,
                               text=text, fingerprint="f", source="x.md"), 0.9)

    policy = hit("policy", "Rule", "Agents must never promise a refund before the check is done.")
    faq = hit("faq", "Fix",
              "Enable the app embed in the theme editor. Then clear the cache and reload the page.")
    assert draft([policy]) == ("", [])
    assert draft([policy, faq]) == ("Enable the app embed in the theme editor. Then clear the cache and "
                                    "reload the page.", [1])
    assert draft([hit("faq", "Don't say", "Just cancel it for the shop.")]) == ("", [])
