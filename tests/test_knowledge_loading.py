"""Loading validates every file and names the file, the field and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import document

from copilot import KnowledgeBase, KnowledgeError


def load_error(root: Path) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(root)
    return caught.value


def test_valid_folder_loads_documents_flows_and_platforms(make_knowledge: Callable[..., Path]) -> None:
    kb = KnowledgeBase.load(make_knowledge())
    assert sorted(d.id for d in kb.documents) == ["popup-not-showing", "shopee-cancel", "tone"]
    assert kb.flows["livechat"].step_ids == ["greeting", "troubleshoot", "farewell"]
    assert kb.marketplaces() == {"shopee"}
    cancel = next(d for d in kb.documents if d.id == "shopee-cancel")
    assert cancel.meta.platforms == ("shopee",) and cancel.meta.language == ("vi", "en")


def test_missing_front_matter_is_named(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": "# Just text\n"}))
    assert error.path.endswith("faqs/bad.md") and "front matter" in error.reason


def test_broken_yaml_names_the_line(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": "---\nid: x-y\ntitle: [unclosed\n---\ntext\n"}))
    assert error.path.endswith("bad.md") and "invalid YAML" in error.reason and "line" in error.reason


def test_missing_required_field_is_named(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": "---\nid: no-title\nkind: faq\n---\ntext\n"}))
    assert error.field == "title" and "missing" in error.reason


def test_misspelled_field_is_rejected(make_knowledge: Callable[..., Path]) -> None:
    bad = document("typo-doc", "Typo", "text", platfroms="[shopee]")
    error = load_error(make_knowledge({"faqs/bad.md": bad}))
    assert error.field == "platfroms" and "unknown field" in error.reason


def test_unknown_platform_is_named_with_the_known_ones(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": document("x-doc", "X", "text", platforms="[shoppe]")}))
    assert error.field == "platforms" and "'shoppe'" in error.reason and "shopee" in error.reason


def test_unknown_step_is_named(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": document("x-doc", "X", "text", steps="[closing]")}))
    assert error.field == "steps" and "'closing'" in error.reason


def test_duplicate_id_names_both_files(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/dup.md": document("tone", "Another tone", "text")}))
    assert error.field == "id" and "already used" in error.reason
    assert "tone.md" in str(error) and "dup.md" in str(error)


def test_bad_id_shape_is_rejected(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": document("Bad Id!", "X", "text")}))
    assert error.field == "id"


def test_empty_body_is_rejected(make_knowledge: Callable[..., Path]) -> None:
    error = load_error(make_knowledge({"faqs/bad.md": document("empty-doc", "X", "")}))
    assert "no text" in error.reason


def test_non_utf8_file_is_named(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge()
    (root / "faqs" / "latin1.md").write_bytes("---\nid: caf\ntitle: Café\n---\n".encode("latin-1"))
    error = load_error(root)
    assert error.path.endswith("latin1.md") and "UTF-8" in error.reason


def test_flow_with_unknown_next_step_is_rejected(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge()
    flow = (root / "flows" / "livechat.yaml").read_text().replace("next: [farewell]", "next: [goodbye]")
    (root / "flows" / "livechat.yaml").write_text(flow)
    error = load_error(root)
    assert error.path.endswith("livechat.yaml") and "goodbye" in error.reason


def test_flow_id_must_match_file_name(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge()
    (root / "flows" / "other.yaml").write_text((root / "flows" / "livechat.yaml").read_text())
    error = load_error(root)
    assert error.field == "id" and "other" in error.reason


def test_missing_default_flow_is_reported(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge()
    (root / "flows" / "livechat.yaml").unlink()
    assert "livechat.yaml" in load_error(root).reason


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    assert "not found" in load_error(tmp_path / "nowhere").reason


CHANNELLED = """\
default: shopee
platforms:
  livechat: {title: Live chat, chatwoot: ["Channel::WebWidget"]}
  shopee: {title: Shopee, marketplace: true, chatwoot: ["Channel::Api"]}
"""


def test_the_platforms_name_their_chatwoot_channels_and_the_default(
    make_knowledge: Callable[..., Path],
) -> None:
    knowledge = KnowledgeBase.load(make_knowledge({"platforms.yaml": CHANNELLED}))
    assert knowledge.chatwoot_platform("Channel::Api") == "shopee"
    assert knowledge.chatwoot_platform("Channel::WebWidget") == "livechat"
    assert knowledge.chatwoot_platform("Channel::Telegram") == "shopee"  # named by none: the default
    undefaulted = CHANNELLED.replace("default: shopee\n", "")
    first = KnowledgeBase.load(make_knowledge({"platforms.yaml": undefaulted}))
    assert first.chatwoot_platform("Channel::Telegram") == "livechat"  # no default: the first listed


def test_a_channel_named_twice_or_an_unknown_default_is_named(make_knowledge: Callable[..., Path]) -> None:
    twice = CHANNELLED.replace('["Channel::Api"]', '["Channel::WebWidget"]')
    with pytest.raises(KnowledgeError, match=r"platforms.shopee.chatwoot.*already the channel of 'livechat'"):
        KnowledgeBase.load(make_knowledge({"platforms.yaml": twice}))
    with pytest.raises(KnowledgeError, match=r"field 'default'.*'tiki' is not one of the platforms"):
        unknown = CHANNELLED.replace("default: shopee", "default: tiki")
        KnowledgeBase.load(make_knowledge({"platforms.yaml": unknown}))
