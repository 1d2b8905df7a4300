"""No customer reads a dangling slot: every template and every answer unit's reply, in both languages, with
every combination of missing names, reads as a whole text (the shipped knowledge is checked too)."""

from __future__ import annotations

from itertools import combinations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.compose.slots import SLOT, dangling_words, write_around_slots
from copilot.knowledge import KnowledgeBase
from copilot.understand.units import answer_units

VALUES = {"customer_name": "Lan", "agent_name": "Minh", "brand": "Avada"}
WORDS = KnowledgeBase.load(SHIPPED_KNOWLEDGE).slot_words  # the shipped language.yaml
SUBSETS = [set(missing) for size in range(len(VALUES) + 1) for missing in combinations(VALUES, size)]


def _shipped_texts() -> list[str]:
    knowledge = KnowledgeBase.load(SHIPPED_KNOWLEDGE)
    texts = [t for flow in knowledge.flows.values() for step in flow.steps
             for templates in step.templates.values() for t in templates]
    units = answer_units(knowledge.documents, knowledge.sections)
    return texts + [reply for unit in units for _, reply in unit.replies.values()]


@pytest.mark.parametrize("template", [
    "Hi {customer_name}, this is {agent_name} from {brand}. Thanks for reaching out!",
    "Hello {customer_name}! {agent_name} here from the {brand} support team. How can I help?",
    "Dạ em chào anh/chị {customer_name}, em là {agent_name} bên {brand}. Cảm ơn anh/chị đã liên hệ ạ!",
    "Xin chào {customer_name}! Em là {agent_name}, nhân viên hỗ trợ của {brand}. Em giúp gì được ạ?",
    "Welcome to {brand}! My name is {agent_name} and I'll take care of it.",
])
def test_a_missing_name_takes_its_dangling_words_with_it(template: str) -> None:
    for missing in SUBSETS:
        text = write_around_slots(template, {k: v for k, v in VALUES.items() if k not in missing}, WORDS)
        assert text and not SLOT.search(text) and not dangling_words(text, WORDS), (missing, text)
        if "customer_name" not in missing and "{customer_name}" in template:
            assert "Lan" in text, text  # the customer's name is kept whatever else is missing


def test_no_agent_name_leaves_no_gap_in_the_greetings_users_reported() -> None:
    assert (
        write_around_slots("Hi {customer_name}, this is {agent_name}. Thanks for reaching out!", {}, WORDS)
        == "Hi. Thanks for reaching out!"
    )
    assert write_around_slots("Dạ em chào anh/chị, em là {agent_name}. Cảm ơn anh/chị ạ!", {}, WORDS) == \
        "Dạ em chào anh/chị. Cảm ơn anh/chị ạ!"


def test_the_dangling_check_finds_what_a_removed_slot_leaves() -> None:
    assert dangling_words("Hi, this is. Thanks", WORDS) == ["this is"]
    assert dangling_words("Dạ em chào anh/chị, em là. Cảm ơn", WORDS) == ["em là"]
    assert dangling_words("Thanks for waiting, Lan. I found what is causing this.", WORDS) == []


def test_every_shipped_template_and_reply_reads_whole_with_any_name_missing() -> None:
    problems = []
    for template in _shipped_texts():
        for missing in SUBSETS:
            text = write_around_slots(template, {k: v for k, v in VALUES.items() if k not in missing}, WORDS)
            if not text or SLOT.search(text) or dangling_words(text, WORDS):
                problems.append((sorted(missing), template[:60], text[:80]))
    assert not problems
