"""The words a missing slot leaves dangling come from the knowledge folder's `language.yaml`: a team that adds
one changes what a draft cuts, and a bad file is named at loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import SHIPPED_KNOWLEDGE

from copilot import Copilot, KnowledgeBase, KnowledgeError, Settings
from copilot.compose.base import DraftContext, DraftPrompt
from copilot.compose.slots import LANGUAGE_FILE, SlotWords, dangling_words, write_around_slots
from copilot.flow.flows import FlowStep

VIA = "Hi {customer_name}, this is {agent_name} via {brand}. Thanks for reaching out!"
QUA = "Dạ em chào chị {customer_name}, em là {agent_name} qua {brand}. Em cảm ơn chị ạ!"


def with_words(make_knowledge: Callable[..., Path], **added: str) -> Path:
    """A knowledge folder whose language.yaml is the shipped one with `list="language word"` added."""
    language_file = yaml.safe_load((SHIPPED_KNOWLEDGE / LANGUAGE_FILE).read_text(encoding="utf-8"))
    for name, word in added.items():
        language, _, value = word.partition(" ")
        language_file["slots"][name].setdefault(language, []).append(value)
    return make_knowledge({LANGUAGE_FILE: yaml.safe_dump(language_file, allow_unicode=True)})


def test_a_preposition_added_to_language_yaml_is_cut_with_its_missing_slot(
        make_knowledge: Callable[..., Path]) -> None:
    shipped = SlotWords.load(SHIPPED_KNOWLEDGE)
    assert write_around_slots(VIA, {"customer_name": "Lan", "agent_name": "Minh"}, shipped) == \
        "Hi Lan. Thanks for reaching out!"  # "via" is not known: the whole clause goes
    taught = KnowledgeBase.load(with_words(make_knowledge, prepositions="en via")).slot_words
    assert write_around_slots(VIA, {"customer_name": "Lan", "agent_name": "Minh"}, taught) == \
        "Hi Lan, this is Minh. Thanks for reaching out!"
    assert write_around_slots(QUA, {"customer_name": "Lan", "agent_name": "Minh"}, shipped) == \
        "Dạ em chào chị Lan. Em cảm ơn chị ạ!"
    taught_vi = KnowledgeBase.load(with_words(make_knowledge, prepositions="vi qua")).slot_words
    assert write_around_slots(QUA, {"customer_name": "Lan", "agent_name": "Minh"}, taught_vi) == \
        "Dạ em chào chị Lan, em là Minh. Em cảm ơn chị ạ!"


def test_a_dangling_end_added_to_language_yaml_is_found(make_knowledge: Callable[..., Path]) -> None:
    assert dangling_words("Hi, this is Minh via. Thanks", SlotWords.load(SHIPPED_KNOWLEDGE)) == []
    taught = KnowledgeBase.load(with_words(make_knowledge, dangling_ends="en via")).slot_words
    assert dangling_words("Hi, this is Minh via. Thanks", taught) == ["this is Minh via"]
    assert dangling_words("Hi, this is. Thanks", taught) == ["this is"]  # the shipped words are still there


def test_a_folder_without_language_yaml_cuts_only_the_missing_slots_clause(tmp_path: Path) -> None:
    none = SlotWords.load(tmp_path)
    template = "Hi {customer_name}, this is {agent_name} from {brand}. Thanks!"
    values = {"customer_name": "Lan", "agent_name": "Minh"}
    assert write_around_slots(template, values, none) == "Hi Lan. Thanks!"
    assert write_around_slots(template, values, SlotWords.load(SHIPPED_KNOWLEDGE)) == \
        "Hi Lan, this is Minh. Thanks!"  # the shipped words cut "from" with the missing brand
    assert dangling_words("Hi, this is. Thanks", none) == []


def test_drafts_write_around_slots_with_the_words_of_the_folder_they_serve(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """The composer of a copilot over a team's folder cuts by that folder's language.yaml,
    not the shipped one."""
    settings = Settings(
        knowledge_dir=with_words(make_knowledge, prepositions="en via"), index_dir=tmp_path / "i"
    )
    composer = Copilot(settings).drafter.composer
    step = FlowStep(id="greeting", title="Greeting", goal="greet", templates={"en": (VIA,)})
    context = DraftContext(step=step, language="en", platform="livechat", passages=[], customer_text="hi",
                           slots={"customer_name": "Lan", "agent_name": "Minh"})
    assert composer.complete(DraftPrompt(messages=[], context=context)).text == \
        "Hi Lan, this is Minh. Thanks for reaching out!"


@pytest.mark.parametrize(("text", "field"), [
    ("slots:\n  dangling_pairs:\n    en: [this is it]\n", "slots.dangling_pairs"),
    ("slots:\n  dangling_endings:\n    en: [via]\n", "slots.dangling_endings"),
    ("slots:\n  prepositions: [via]\n", "slots.prepositions"),
])
def test_a_bad_language_yaml_is_named_with_its_field(make_knowledge: Callable[..., Path], text: str,
                                                     field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(make_knowledge({LANGUAGE_FILE: text}))
    assert caught.value.path.endswith(LANGUAGE_FILE) and caught.value.field == field
