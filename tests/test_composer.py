"""The local composer: templates in the customer's language, slots filled or written around, passage lines."""

from __future__ import annotations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.compose.base import DraftContext, DraftPrompt
from copilot.compose.local import LocalComposer, customer_lines, write_around_slots
from copilot.compose.slots import SlotWords
from copilot.flow.flows import load_flow
from copilot.knowledge import Sections
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.hybrid import SearchHit

FLOW = load_flow(SHIPPED_KNOWLEDGE / "flows" / "livechat.yaml")
SLOTS = {"customer_name": "Anna", "agent_name": "Minh", "brand": "Avada"}
SECTIONS = Sections(reply=("reply", "trả lời mẫu", "compliant example"),
                    forbidden=("don't", "không nên"))


def compose(step: str, language: str, slots: dict[str, str], passages: list[SearchHit] | None = None) -> str:
    context = DraftContext(step=FLOW.step(step), language=language, platform="livechat", slots=slots,
                           passages=passages or [], customer_text="I want to cancel")
    return LocalComposer(SECTIONS).complete(DraftPrompt(messages=[], context=context)).text


def chunk(section: str, text: str, doc_id: str = "doc") -> Chunk:
    return Chunk(id=f"{doc_id}::000", doc_id=doc_id, title="T", section=section, kind="macro", text=text,
                 fingerprint="f", source="x.md")


def test_greeting_in_english_fills_every_slot() -> None:
    text = compose("greeting", "en", SLOTS)
    assert text.startswith("Hi Anna, this is Minh from Avada") and "{" not in text


def test_greeting_in_vietnamese() -> None:
    text = compose("greeting", "vi", {"customer_name": "Lan", "agent_name": "Minh", "brand": "Đậu Shop"})
    assert "Lan" in text and "Minh" in text and "Đậu Shop" in text and "em" in text


def test_farewell_asks_for_a_review_in_both_languages() -> None:
    assert "review" in compose("farewell", "en", SLOTS).lower()
    assert "đánh giá" in compose("farewell", "vi", SLOTS)


def test_unknown_slots_are_written_around_never_left() -> None:
    text = compose("greeting", "en", {})
    assert "{" not in text and "from ." not in text and " ," not in text


def test_write_around_slots_drops_dangling_words() -> None:
    template = "Hi {customer_name}, this is {agent_name} from {brand}."
    words = SlotWords.load(SHIPPED_KNOWLEDGE)  # "from" is cut with the missing brand
    assert write_around_slots(template, {"agent_name": "Minh"}, words) == "Hi, this is Minh."


def test_knowledge_step_uses_the_reply_section_in_the_customer_language() -> None:
    passages = [
        SearchHit(chunk("Don't say", "- \"Please cancel the order for us.\""), 0.9),
        SearchHit(chunk("Reply (English)",
                        "You can cancel it yourself with the Cancel order button, {customer_name}."), 0.8),
        SearchHit(chunk("Trả lời mẫu (Tiếng Việt)",
                        "Dạ anh/chị có thể tự hủy đơn bằng nút Hủy đơn hàng ạ."), 0.7),
    ]
    assert compose("troubleshoot", "en", SLOTS, passages) == (
        "You can cancel it yourself with the Cancel order button, Anna.")
    assert compose("troubleshoot", "vi", SLOTS, passages).startswith("Dạ anh/chị có thể tự hủy")


def test_forbidden_example_sections_are_never_used() -> None:
    forbidden = chunk("Không nên nói", "- \"Anh/chị hủy đơn giúp shop nhé.\"")
    assert customer_lines(forbidden, "vi", SECTIONS) == []
    # no section named: no line sent
    assert customer_lines(chunk("Reply lines", "- \"Hi there!\""), "en", Sections()) == []


def test_the_sendable_headings_are_the_knowledge_bases_folded() -> None:
    sections = Sections(reply=("trả lời mẫu",), forbidden=("don't",))
    assert sections.sendable("Tra loi mau (Tieng Viet)") and sections.sendable("TRẢ LỜI MẪU")
    assert not sections.sendable("Trả lời mẫu: don’t say this") and sections.never("Don't say")
    assert not sections.sendable("Reply (English)")


def test_example_lines_pick_the_closest_to_the_customer() -> None:
    examples = chunk("Compliant example lines", "- \"If you want to cancel, use the Cancel button.\"\n"
                     "- \"Your refund arrives in 3 days.\"\n- \"Exchanges take a week.\"")
    lines = customer_lines(examples, "en", SECTIONS)
    assert len(lines) == 3 and lines[0].startswith("If you want to cancel")


def test_knowledge_step_without_a_usable_passage_falls_back_to_templates() -> None:
    assert compose("troubleshoot", "en", SLOTS, []) in [t.replace("{customer_name}", "Anna")
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
    assert draft([hit("faq", "Don't say", "Please cancel the order for us.")]) == ("", [])
