"""No customer reads a dangling slot: a template, in both languages, with every combination of missing names,
reads as a whole text (on the tests' own words; every shipped template is checked in
`test_shipped_templates.py`)."""

from __future__ import annotations

from itertools import combinations

import pytest

from copilot.compose.slots import SLOT, SlotWords, dangling_words, write_around_slots

VALUES = {"customer_name": "Lan", "agent_name": "Minh", "brand": "Avada"}
WORDS = SlotWords(
    dangling_ends={"en": ("from", "with", "at", "the"), "vi": ("là", "của", "bên")},
    dangling_pairs={"en": ("this is", "i m")},
    prepositions={"en": ("from", "with", "at"), "vi": ("của", "bên")},
    articles={"en": ("the",)},
)
SUBSETS = [set(missing) for size in range(len(VALUES) + 1) for missing in combinations(VALUES, size)]


@pytest.mark.parametrize("template", [
    "Hey {customer_name}, you're chatting with {agent_name} from {brand}. Glad you wrote in!",
    "Morning {customer_name}! {agent_name} at the {brand} help desk, what can I do for you?",
    "Dạ chào chị {customer_name}, em là {agent_name} của {brand} ạ. Chị cần em giúp gì không ạ?",
    "Chào {customer_name}! Mình là {agent_name} bên {brand}, rất vui được hỗ trợ bạn.",
    "Greetings from {brand}! I'm {agent_name} and I'll look after this.",
])
def test_a_missing_name_takes_its_dangling_words_with_it(template: str) -> None:
    for missing in SUBSETS:
        text = write_around_slots(template, {k: v for k, v in VALUES.items() if k not in missing}, WORDS)
        assert text and not SLOT.search(text) and not dangling_words(text, WORDS), (missing, text)
        if "customer_name" not in missing and "{customer_name}" in template:
            assert "Lan" in text, text  # the customer's name is kept whatever else is missing


def test_no_agent_name_leaves_no_gap_in_the_greetings_users_reported() -> None:
    assert (
        write_around_slots("Hey {customer_name}, this is {agent_name}. Good to hear from you!", {}, WORDS)
        == "Hey. Good to hear from you!"
    )
    assert write_around_slots("Dạ em chào chị, em là {agent_name}. Em cảm ơn chị ạ!", {}, WORDS) == \
        "Dạ em chào chị. Em cảm ơn chị ạ!"


def test_the_dangling_check_finds_what_a_removed_slot_leaves() -> None:
    assert dangling_words("Hey, this is. Good to hear from you", WORDS) == ["this is"]
    assert dangling_words("Dạ em chào chị, em là. Em cảm ơn", WORDS) == ["em là"]
    assert dangling_words("Sorry for the wait, Lan. I see what is causing this.", WORDS) == []
