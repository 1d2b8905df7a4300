"""The words keyword search reads differently (stop words, chat shorthand, synonyms) come from the knowledge
folder's `language.yaml` (`search:`): a team that adds one changes what a search finds and what the flows'
cues read, at the next ingest, and a bad section is named at loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MINI_FLOW, document

from copilot import Copilot, KnowledgeBase, KnowledgeError, Settings
from copilot.compose.slots import LANGUAGE_FILE
from copilot.contracts import Message
from copilot.flow.tracker import StepTracker
from copilot.retrieval.embedders import HashingEmbedder

GADGET = document("gadget-reset", "Resetting the gadget",
                  "# Gadget\n\n## Reset\nHold the blimfle button for ten seconds, then snarf the cable.",
                  kind="faq", platforms="[livechat]", language="[en]")


def found(root: Path, tmp_path: Path, query: str) -> list[str]:
    """The documents a keyword search finds in `root` after an ingest."""
    copilot = Copilot(Settings(knowledge_dir=root, index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    copilot.ingest()
    return [hit.chunk.doc_id for hit in copilot.search(query, k=3, mode="bm25")]


def test_a_synonym_added_to_language_yaml_finds_its_other_word_at_the_next_ingest(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    root = make_knowledge({"faqs/gadget.md": GADGET})
    assert KnowledgeBase.load(root).search_words.expansions == {}  # no language.yaml: every word as it is
    assert found(root, tmp_path, "zorp") == []
    make_knowledge({LANGUAGE_FILE: "search:\n  synonyms: {en: {zorp: blimfle}}\n"})
    assert found(root, tmp_path, "zorp")[0] == "gadget-reset"


def test_a_stopword_added_to_language_yaml_is_left_out_of_the_index(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    root = make_knowledge({"faqs/gadget.md": GADGET})
    assert found(root, tmp_path, "snarf") == ["gadget-reset"]
    make_knowledge({LANGUAGE_FILE: "search:\n  stopwords: {en: [Snarf]}\n"})  # compared folded
    assert found(root, tmp_path, "snarf") == []


def test_chat_shorthand_added_to_language_yaml_is_written_out_before_the_cues_read_it(
        make_knowledge: Callable[..., Path]) -> None:
    cued = {"flows/livechat.yaml": MINI_FLOW.replace("review_ask: true\n",
                                                     "review_ask: true\n    cues: ['\\bthat is all\\b']\n")}
    root = make_knowledge(cued)
    conversation = [Message(role="customer", text="hi"), Message(role="agent", text="Hi Lan"),
                    Message(role="customer", text="tia, cheers")]
    flow = KnowledgeBase.load(root).flows["livechat"]
    assert StepTracker(flow).locate(conversation).step == "troubleshoot"  # the graph: no cue read
    make_knowledge({**cued, LANGUAGE_FILE: "search:\n  abbreviations: {en: {tia: that is all}}\n"})
    location = StepTracker(KnowledgeBase.load(root).flows["livechat"]).locate(conversation)
    assert location.step == "farewell"
    assert location.reasons == ["customer cue 'that is all' calls for farewell"]


@pytest.mark.parametrize(("section", "field"), [
    ("stopwords: {en: [two words]}", "search.stopwords"),
    ("stopwords: {en: ['']}", "search.stopwords"),
    ("synonyms: {en: {zorp: ''}}", "search.synonyms"),
    ("synonyms: {en: {zorp blat: blimfle}}", "search.synonyms"),
    ("synonyms: {en: [zorp, blimfle]}", "search.synonyms.en"),
    ("abbreviations: {en: {tia: [that, is, all]}}", "search.abbreviations.en.tia"),
    ("abbreviation: {en: {tia: that is all}}", "search.abbreviation"),
])
def test_a_malformed_search_section_is_named_by_file_and_field(
        make_knowledge: Callable[..., Path], section: str, field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(make_knowledge({LANGUAGE_FILE: f"search:\n  {section}\n"}))
    assert caught.value.path.endswith(LANGUAGE_FILE) and caught.value.field == field
