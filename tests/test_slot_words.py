"""The words a missing slot leaves dangling, and those that say which slot a left-over placeholder stands for,
come from the knowledge folder's `language.yaml`: a team that adds one changes what a draft cuts or fills, and
a bad file is named at loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from copilot import Copilot, KnowledgeBase, KnowledgeError, Settings
from copilot.compose.base import DraftContext, DraftPrompt
from copilot.compose.slots import LANGUAGE_FILE, SlotWords, dangling_words, slot_for, write_around_slots
from copilot.flow.flows import FlowStep
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.repair import Repairer

VIA = "Hi {customer_name}, this is {agent_name} via {brand}. Thanks for writing in!"
QUA = "Dạ em chào chị {customer_name}, em là {agent_name} qua {brand}. Em cảm ơn chị ạ!"


# The words of the tests' own language.yaml, before a test adds one.
LANGUAGE = """\
slots:
  dangling_ends: {en: [from, at], vi: [là, của]}
  dangling_pairs: {en: [this is]}
  prepositions: {en: [from, at], vi: [của]}
"""
WORDS = SlotWords.of(yaml.safe_load(LANGUAGE), Path(LANGUAGE_FILE))


def with_words(make_knowledge: Callable[..., Path], **added: str) -> Path:
    """A knowledge folder whose language.yaml is `LANGUAGE` with `list="language word"` added."""
    language_file = yaml.safe_load(LANGUAGE)
    for name, word in added.items():
        language, _, value = word.partition(" ")
        language_file["slots"][name].setdefault(language, []).append(value)
    return make_knowledge({LANGUAGE_FILE: yaml.safe_dump(language_file, allow_unicode=True)})


def test_a_preposition_added_to_language_yaml_is_cut_with_its_missing_slot(
        make_knowledge: Callable[..., Path]) -> None:
    assert write_around_slots(VIA, {"customer_name": "Lan", "agent_name": "Minh"}, WORDS) == \
        "Hi Lan. Thanks for writing in!"  # "via" is not known: the whole clause goes
    taught = KnowledgeBase.load(with_words(make_knowledge, prepositions="en via")).slot_words
    assert write_around_slots(VIA, {"customer_name": "Lan", "agent_name": "Minh"}, taught) == \
        "Hi Lan, this is Minh. Thanks for writing in!"
    assert write_around_slots(QUA, {"customer_name": "Lan", "agent_name": "Minh"}, WORDS) == \
        "Dạ em chào chị Lan. Em cảm ơn chị ạ!"
    taught_vi = KnowledgeBase.load(with_words(make_knowledge, prepositions="vi qua")).slot_words
    assert write_around_slots(QUA, {"customer_name": "Lan", "agent_name": "Minh"}, taught_vi) == \
        "Dạ em chào chị Lan, em là Minh. Em cảm ơn chị ạ!"


def test_a_dangling_end_added_to_language_yaml_is_found(make_knowledge: Callable[..., Path]) -> None:
    assert dangling_words("Hi, this is Minh via. Thanks", WORDS) == []
    taught = KnowledgeBase.load(with_words(make_knowledge, dangling_ends="en via")).slot_words
    assert dangling_words("Hi, this is Minh via. Thanks", taught) == ["this is Minh via"]
    assert dangling_words("Hi, this is. Thanks", taught) == ["this is"]  # the folder's words are still there


def test_a_folder_without_language_yaml_cuts_only_the_missing_slots_clause(tmp_path: Path) -> None:
    none = SlotWords.load(tmp_path)
    template = "Hi {customer_name}, this is {agent_name} from {brand}. Thanks!"
    values = {"customer_name": "Lan", "agent_name": "Minh"}
    assert write_around_slots(template, values, none) == "Hi Lan. Thanks!"
    assert write_around_slots(template, values, WORDS) == \
        "Hi Lan, this is Minh. Thanks!"  # the folder's words cut "from" with the missing brand
    assert dangling_words("Hi, this is. Thanks", none) == []


def test_drafts_write_around_slots_with_the_words_of_the_folder_they_serve(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """The composer of a copilot over a team's folder cuts by that folder's language.yaml."""
    settings = Settings(
        knowledge_dir=with_words(make_knowledge, prepositions="en via"), index_dir=tmp_path / "i"
    )
    composer = Copilot(settings).drafter.composer
    step = FlowStep(id="greeting", title="Greeting", goal="greet", templates={"en": (VIA,)})
    context = DraftContext(step=step, language="en", platform="livechat", passages=[], customer_text="hi",
                           slots={"customer_name": "Lan", "agent_name": "Minh"})
    assert composer.complete(DraftPrompt(messages=[], context=context)).text == \
        "Hi Lan, this is Minh. Thanks for writing in!"


def hints(folder: Path, listed: str) -> SlotWords:
    """The slot words of a knowledge folder whose language.yaml holds only `slots: hints:` `listed`."""
    folder.mkdir(exist_ok=True)
    (folder / LANGUAGE_FILE).write_text(f"slots:\n  hints:\n{listed}", encoding="utf-8")
    return SlotWords.load(folder)


def test_a_hint_added_to_language_yaml_fills_its_slot_in_a_left_over_placeholder(
        make_knowledge: Callable[..., Path]) -> None:
    text = "Dạ em cảm ơn chị đã liên hệ [Tên cửa hàng]. Chị cần gì thêm không ạ?"
    slots = {"customer_name": "Lan", "brand": "Avada"}
    for listed, expected in [("    brand:\n      en: [brand]\n", "Chị cần gì thêm không ạ?"),
                             ("    brand:\n      vi: [cửa hàng]\n",
                              "Dạ em cảm ơn chị đã liên hệ Avada. Chị cần gì thêm không ạ?")]:
        folder = make_knowledge({LANGUAGE_FILE: f"slots:\n  hints:\n{listed}"})
        repairer = Repairer(GuardrailEngine.from_knowledge(KnowledgeBase.load(folder)))
        outcome = repairer.repair(text, repairer.engine.context(text, platform="livechat"), slots)
        assert outcome.text == expected


def test_a_hint_taken_out_of_language_yaml_no_longer_names_a_slot(tmp_path: Path) -> None:
    with_buyer = hints(tmp_path / "a", "    customer_name:\n      en: [customer, buyer]\n")
    without = hints(tmp_path / "b", "    customer_name:\n      en: [customer]\n")
    assert slot_for("[Buyer]", with_buyer) == "customer_name"
    assert slot_for("[Buyer]", without) is None
    assert slot_for("[Customer]", without) == "customer_name"


def test_the_first_slot_listed_whose_hint_a_placeholder_holds_is_its_slot(tmp_path: Path) -> None:
    customer, brand = "    customer_name:\n      en: [name]\n", "    brand:\n      en: [shop]\n"
    customer_first = hints(tmp_path / "a", customer + brand)
    brand_first = hints(tmp_path / "b", brand + customer)
    assert slot_for("[Shop name]", customer_first) == "customer_name"
    assert slot_for("[Shop name]", brand_first) == "brand"


def test_without_hints_only_a_placeholder_naming_its_slot_is_recognised(tmp_path: Path) -> None:
    none = SlotWords.load(tmp_path)
    assert slot_for("[Customer Name]", none) == "customer_name" and slot_for("<brand>", none) == "brand"
    assert slot_for("[your name]", none) is None and slot_for("[Feature X]", none) is None


@pytest.mark.parametrize(("text", "field"), [
    ("slots:\n  hints:\n    agent name:\n      en: [your name]\n", "slots.hints"),
    ("slots:\n  hints:\n    brand: [shop]\n", "slots.hints.brand"),
    ("slots:\n  dangling_pairs:\n    en: [this is it]\n", "slots.dangling_pairs"),
    ("slots:\n  dangling_endings:\n    en: [via]\n", "slots.dangling_endings"),
    ("slots:\n  prepositions: [via]\n", "slots.prepositions"),
])
def test_a_bad_language_yaml_is_named_with_its_field(make_knowledge: Callable[..., Path], text: str,
                                                     field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(make_knowledge({LANGUAGE_FILE: text}))
    assert caught.value.path.endswith(LANGUAGE_FILE) and caught.value.field == field
