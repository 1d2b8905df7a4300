"""Personal data is masked before it reaches an outside LLM, and put back in the draft; what reads as a street
address is the knowledge folder's `language.yaml` (`addresses:`), here the tests' own words. What the shipped
words mask is checked in `test_shipped_review.py`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.qa_kb import qa_knowledge

from bench.openai_server import FakeOpenAIServer
from copilot import Copilot, KnowledgeBase, KnowledgeError, Settings
from copilot.compose.scripted import ScriptedChatModel
from copilot.compose.slots import LANGUAGE_FILE
from copilot.contracts import DraftRequest
from copilot.retrieval.embedders import HashingEmbedder
from copilot.triage.contracts import TriageRequest
from copilot.understand.pii import NO_ADDRESSES, AddressWords, PiiMasker

DAI_LO = "addresses:\n  streets:\n    vi: [đại lộ]\n"  # a team's own street word
WORDS = """\
addresses:
  streets: {en: [road], vi: [pho, phố, ngách]}
  areas: {vi: [khu, kp.]}
  later_areas: {vi: [tổ, kp., tx.]}
"""
TEXT = ("Chị gửi về 27 Hòa Bình, khu 3, tổ 9, sđt 0987 654 321, email minh.tran@example.com, "
        "thẻ 5555 5555 5555 4444. Mã đơn 88AB12, size 38, giá 120.000đ.")


def addresses(folder: Path, section: str) -> AddressWords:
    """The address words of a knowledge folder whose language.yaml is `section`."""
    folder.mkdir(exist_ok=True)
    (folder / LANGUAGE_FILE).write_text(section, encoding="utf-8")
    return AddressWords.load(folder)


@pytest.fixture
def words(tmp_path: Path) -> AddressWords:
    return addresses(tmp_path / "words", WORDS)


def test_each_kind_of_personal_data_gets_a_token_and_comes_back(words: AddressWords) -> None:
    masker = PiiMasker(words)
    masked = masker.mask(TEXT)
    assert masked.startswith("Chị gửi về [ADDRESS_1], sđt [PHONE_1], email [EMAIL_1], thẻ [CARD_1].")
    assert masker.tokens == {"[ADDRESS_1]": "27 Hòa Bình, khu 3, tổ 9", "[PHONE_1]": "0987 654 321",
                             "[EMAIL_1]": "minh.tran@example.com", "[CARD_1]": "5555 5555 5555 4444"}
    assert "88AB12" in masked and "size 38" in masked and "120.000đ" in masked
    assert masker.unmask(masked) == TEXT


def test_the_same_value_gets_the_same_token() -> None:
    masker = PiiMasker(NO_ADDRESSES)
    assert (
        masker.mask("call 0901234567") == "call [PHONE_1]" and masker.mask("or 0901234567") == "or [PHONE_1]"
    )


def test_numbers_that_are_not_cards_stay() -> None:
    assert PiiMasker(NO_ADDRESSES).mask("order 1234 5678 9012 3456") == "order 1234 5678 9012 3456"


def test_a_street_word_inside_a_longer_word_is_no_address(words: AddressWords) -> None:
    for text in ("I sent 12 photos of the box", "we sell 2 roadsters a year", "see the 3 roadmaps"):
        assert PiiMasker(words).mask(text) == text
    assert PiiMasker(words).mask("Giao về 12 phố Huế") == "Giao về [ADDRESS_1]"
    assert PiiMasker(words).mask("ship to 45 Baker road, Leeds") == "ship to [ADDRESS_1]"


def test_an_abbreviation_with_its_dot_opens_every_part_of_an_address(words: AddressWords) -> None:
    for text in ("giao 12 Lê Lai, kp.4, tx. Thuận An", "giao 12 Lê Lai, khu 4, kp.7, tx. Thuận An"):
        assert PiiMasker(words).mask(text) == "giao [ADDRESS_1]", text
    assert PiiMasker(words).mask("giao 12 Lê Lai, kp 4") == "giao 12 Lê Lai, kp 4"  # the dot is the word's


def test_a_street_word_taken_out_of_language_yaml_no_longer_makes_an_address(tmp_path: Path) -> None:
    with_pho = addresses(tmp_path / "a", "addresses:\n  streets:\n    vi: [đường, phố, pho]\n")
    without = addresses(tmp_path / "b", "addresses:\n  streets:\n    vi: [đường]\n")
    text = "Giao về 12 phố Huế"
    assert PiiMasker(with_pho).mask(text) == "Giao về [ADDRESS_1]"
    assert PiiMasker(without).mask(text) == text
    assert PiiMasker(without).mask("Giao về 12 đường Láng") == "Giao về [ADDRESS_1]"


def test_a_street_word_added_to_language_yaml_makes_an_address(tmp_path: Path) -> None:
    before = addresses(tmp_path / "a", "addresses:\n  streets:\n    en: [street]\n")
    after = addresses(tmp_path / "b", "addresses:\n  streets:\n    en: [street]\n    vi: [đại lộ]\n")
    text = "Ship to 45 Đại lộ Thăng Long please"
    assert PiiMasker(before).mask(text) == text
    assert PiiMasker(after).mask(text) == "Ship to [ADDRESS_1]"


def test_area_words_of_language_yaml_make_an_address_after_a_comma(tmp_path: Path) -> None:
    text = "Gửi 123 Nguyễn Trãi, khu 2, ấp Tân Phú nhé"
    ward = addresses(tmp_path / "a", "addresses:\n  areas:\n    vi: [phường]\n")
    assert PiiMasker(ward).mask(text) == text
    khu = addresses(tmp_path / "b", "addresses:\n  areas:\n    vi: [khu]\n")
    assert PiiMasker(khu).mask(text) == "Gửi [ADDRESS_1], ấp Tân Phú nhé"
    khu_ap = addresses(tmp_path / "c", "addresses:\n  areas:\n    vi: [khu]\n  later_areas:\n    vi: [ấp]\n")
    assert PiiMasker(khu_ap).mask(text) == "Gửi [ADDRESS_1]"


def test_a_folder_without_address_words_masks_no_address_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        words = AddressWords.load(tmp_path)
    assert "street addresses are not masked" in caplog.text
    masked = PiiMasker(words).mask("12 phố Huế, phường 2, sđt 0901234567")
    assert masked == "12 phố Huế, phường 2, sđt [PHONE_1]"


@pytest.mark.parametrize(("text", "field"), [
    ("addresses:\n  streets: [street]\n", "addresses.streets"),
    ("addresses:\n  street:\n    en: [street]\n", "addresses.street"),
    ("addresses:\n  streets:\n    en: ['street', ' ']\n", "addresses.streets"),
    ("addresses: [street]\n", "addresses"),
])
def test_a_bad_addresses_section_is_named_with_its_file_and_field(
        make_knowledge: Callable[..., Path], text: str, field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(make_knowledge({LANGUAGE_FILE: text}))
    assert caught.value.path.endswith(LANGUAGE_FILE) and caught.value.field == field


def test_the_llm_draft_is_masked_by_the_address_words_of_the_folder_served(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """A team's own street word ("đại lộ") keeps its customers' addresses from the outside LLM."""
    folder = qa_knowledge(make_knowledge, {LANGUAGE_FILE: DAI_LO})
    model = ScriptedChatModel("Dạ em ghi nhận địa chỉ [ADDRESS_1] ạ.")
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    copilot = Copilot(settings, embedder=HashingEmbedder(), model=model)
    text = "Giao về 45 đại lộ Thăng Long"
    request = {"platform": "livechat", "messages": [{"role": "customer", "text": text}]}
    response = copilot.draft(DraftRequest.model_validate(request))
    sent = " ".join(message["content"] for message in model.history[0].messages)
    assert "45 đại lộ" not in sent and "[ADDRESS_1]" in sent
    assert text.removeprefix("Giao về ") in response.draft


def test_the_triage_llm_reads_the_message_masked_by_the_folder_served(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    folder = qa_knowledge(make_knowledge, {LANGUAGE_FILE: DAI_LO})  # with its triage table
    model = ScriptedChatModel().enqueue_json({"intent": "other", "urgency": "medium", "sentiment": "neutral"})
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    result = Copilot(settings, embedder=HashingEmbedder(), model=model).triage(TriageRequest.model_validate(
        {"platform": "livechat", "messages": [{"role": "customer", "text": "Giao về 45 đại lộ Thăng Long"}]}))
    sent = " ".join(message["content"] for message in model.history[0].messages)
    assert "45 đại lộ" not in sent and "[ADDRESS_1]" in sent
    assert result.intent == "other" and result.handoff  # the model's reading of the masked message


@pytest.mark.parametrize("masking", [True, False])
def test_the_llm_never_sees_the_raw_data_and_the_agent_gets_it_back(
    make_knowledge: Callable[..., Path], tmp_path: Path, masking: bool
) -> None:
    with FakeOpenAIServer() as llm:
        llm.enqueue("Dạ shop sẽ giao đến [ADDRESS_1] và liên hệ qua [EMAIL_1] ạ.")
        knowledge = qa_knowledge(make_knowledge, {LANGUAGE_FILE: WORDS})
        settings = Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index", llm_base_url=llm.base_url,
                            llm_model="fake", pii_masking=masking)
        copilot = Copilot(settings, embedder=HashingEmbedder())
        copilot.ingest()
        request: dict[str, Any] = {"platform": "livechat", "step": "troubleshoot",
                                   "messages": [{"role": "customer", "text": TEXT}]}
        response = copilot.draft(DraftRequest.model_validate(request))
        sent = " ".join(m["content"] for m in llm.history[0]["messages"])
    raw = ("0987 654 321", "minh.tran@example.com", "5555 5555 5555 4444", "27 Hòa Bình, khu 3, tổ 9")
    if masking:
        assert not [value for value in raw if value in sent], sent
        assert all(token in sent for token in ("[PHONE_1]", "[EMAIL_1]", "[CARD_1]", "[ADDRESS_1]"))
        assert "minh.tran@example.com" in response.draft and "27 Hòa Bình, khu 3, tổ 9" in response.draft
    else:
        assert all(value in sent for value in raw) and "[PHONE_1]" not in sent
