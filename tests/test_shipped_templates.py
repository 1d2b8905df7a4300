"""The shipped templates and `language.yaml` words: every template and answer unit's reply reads whole with
any name missing, every step of the shipped flow composes in both languages, the farewell asks for a review
in each, and the shipped words cut and fill as the team wrote them. How slots are filled and written around on
any knowledge is tested on the tests' own words (`test_clean_text.py`, `test_composer.py`,
`test_slot_words.py`): editing the shipped knowledge may fail this file, never those."""

from __future__ import annotations

from itertools import combinations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.compose.base import DraftContext, DraftPrompt
from copilot.compose.local import LocalComposer
from copilot.compose.slots import SLOT, SlotWords, dangling_words, slot_for, write_around_slots
from copilot.flow.flows import load_flow
from copilot.knowledge import KnowledgeBase, Sections
from copilot.understand.units import answer_units

FLOW = load_flow(SHIPPED_KNOWLEDGE / "flows" / "livechat.yaml")
SLOTS = {"customer_name": "Anna", "agent_name": "Minh", "brand": "Avada"}
SECTIONS = Sections(reply=("reply", "trả lời mẫu", "compliant example"),
                    forbidden=("don't", "không nên"))
VALUES = {"customer_name": "Lan", "agent_name": "Minh", "brand": "Avada"}
WORDS = KnowledgeBase.load(SHIPPED_KNOWLEDGE).slot_words  # the shipped language.yaml
SUBSETS = [set(missing) for size in range(len(VALUES) + 1) for missing in combinations(VALUES, size)]


def compose(step: str, language: str, slots: dict[str, str]) -> str:
    context = DraftContext(step=FLOW.step(step), language=language, platform="livechat", slots=slots,
                           passages=[], customer_text="I want to cancel")
    return LocalComposer(SECTIONS).complete(DraftPrompt(messages=[], context=context)).text


def _shipped_texts() -> list[str]:
    knowledge = KnowledgeBase.load(SHIPPED_KNOWLEDGE)
    texts = [t for flow in knowledge.flows.values() for step in flow.steps
             for templates in step.templates.values() for t in templates]
    units = answer_units(knowledge.documents, knowledge.sections)
    return texts + [reply for unit in units for _, reply in unit.replies.values()]


def test_every_shipped_template_and_reply_reads_whole_with_any_name_missing() -> None:
    problems = []
    for template in _shipped_texts():
        for missing in SUBSETS:
            text = write_around_slots(template, {k: v for k, v in VALUES.items() if k not in missing}, WORDS)
            if not text or SLOT.search(text) or dangling_words(text, WORDS):
                problems.append((sorted(missing), template[:60], text[:80]))
    assert not problems


@pytest.mark.parametrize("step", FLOW.step_ids)
def test_every_step_composes_in_both_languages_without_slots(step: str) -> None:
    for language in ("en", "vi"):
        text = compose(step, language, SLOTS)
        assert text and "{" not in text


def test_farewell_asks_for_a_review_in_both_languages() -> None:
    assert "review" in compose("farewell", "en", SLOTS).lower()
    assert "đánh giá" in compose("farewell", "vi", SLOTS)


def test_the_shipped_words_cut_from_with_the_missing_brand() -> None:
    words = SlotWords.load(SHIPPED_KNOWLEDGE)
    template = "Hi {customer_name}, this is {agent_name} from {brand}."
    assert write_around_slots(template, {"agent_name": "Minh"}, words) == "Hi, this is Minh."
    values = {"customer_name": "Lan", "agent_name": "Minh"}
    assert write_around_slots(f"{template} Thanks!", values, words) == "Hi Lan, this is Minh. Thanks!"


@pytest.mark.parametrize(("placeholder", "slot"), [
    ("[Shop Name]", "brand"), ("[Store name]", "brand"), ("[tên shop]", "brand"),
    ("[Customer Name]", "customer_name"), ("[Name]", "customer_name"), ("[tên khách]", "customer_name"),
    ("[Your name]", "agent_name"), ("[tên nhân viên]", "agent_name"),
])
def test_the_shipped_hints_give_a_shop_name_placeholder_the_brand_not_the_customer(placeholder: str,
                                                                                   slot: str) -> None:
    assert slot_for(placeholder, SlotWords.load(SHIPPED_KNOWLEDGE)) == slot
