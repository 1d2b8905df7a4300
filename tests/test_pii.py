"""Personal data is masked before it reaches an outside LLM, and put back in the draft; what reads as a street
address is the knowledge folder's `language.yaml` (`addresses:`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import SHIPPED_KNOWLEDGE

from bench.openai_server import FakeOpenAIServer
from copilot import Copilot, KnowledgeBase, KnowledgeError, Settings
from copilot.compose.scripted import ScriptedChatModel
from copilot.compose.slots import LANGUAGE_FILE
from copilot.contracts import DraftRequest
from copilot.retrieval.embedders import HashingEmbedder
from copilot.triage.engine import TriageRequest
from copilot.understand.pii import NO_ADDRESSES, AddressWords, PiiMasker

DAI_LO = "addresses:\n  streets:\n    vi: [đại lộ]\n"  # a team's own street word
TEXT = ("Chị gửi về 123 Nguyễn Trãi, phường 2, quận 5, sđt 0901 234 567, email lan.nguyen@gmail.com, "
        "thẻ 4111 1111 1111 1111. Mã đơn 230512ABC, size 42, giá 350.000đ.")


def test_each_kind_of_personal_data_gets_a_token_and_comes_back() -> None:
    masker = PiiMasker(AddressWords.load(SHIPPED_KNOWLEDGE))
    masked = masker.mask(TEXT)
    for value in ("0901 234 567", "lan.nguyen@gmail.com", "4111 1111 1111 1111", "123 Nguyễn Trãi"):
        assert value not in masked
    assert {"[PHONE_1]", "[EMAIL_1]", "[CARD_1]", "[ADDRESS_1]"} <= set(masker.tokens)
    assert "230512ABC" in masked and "size 42" in masked and "350.000đ" in masked
    assert masker.unmask(masked) == TEXT


def test_the_same_value_gets_the_same_token() -> None:
    masker = PiiMasker(NO_ADDRESSES)
    assert (
        masker.mask("call 0901234567") == "call [PHONE_1]" and masker.mask("or 0901234567") == "or [PHONE_1]"
    )


def test_numbers_that_are_not_cards_stay() -> None:
    assert PiiMasker(NO_ADDRESSES).mask("order 1234 5678 9012 3456") == "order 1234 5678 9012 3456"


def test_a_street_word_inside_a_longer_word_is_no_address() -> None:
    words = AddressWords.load(SHIPPED_KNOWLEDGE)
    for text in ("I sent 12 photos of the box", "we sell 2 phones a day", "see the 3 roadmaps"):
        assert PiiMasker(words).mask(text) == text
    assert PiiMasker(words).mask("Giao về 12 phố Huế") == "Giao về [ADDRESS_1]"
    assert PiiMasker(words).mask("ship to 45 Baker Street, London") == "ship to [ADDRESS_1]"


def test_the_shipped_abbreviations_open_every_part_of_an_address() -> None:
    words = AddressWords.load(SHIPPED_KNOWLEDGE)
    for text in ("giao 123 Nguyễn Trãi, p.2, q.5", "giao 123 Nguyễn Trãi, phường 2, q.5, tp. HCM"):
        assert PiiMasker(words).mask(text) == "giao [ADDRESS_1]", text


def addresses(folder: Path, section: str) -> AddressWords:
    """The address words of a knowledge folder whose language.yaml is `section`."""
    folder.mkdir(exist_ok=True)
    (folder / LANGUAGE_FILE).write_text(section, encoding="utf-8")
    return AddressWords.load(folder)


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
    folder = make_knowledge({LANGUAGE_FILE: DAI_LO})
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
    triage = (SHIPPED_KNOWLEDGE / "triage.yaml").read_text(encoding="utf-8")
    folder = make_knowledge({LANGUAGE_FILE: DAI_LO, "triage.yaml": triage})
    model = ScriptedChatModel().enqueue_json({"intent": "other"})
    settings = Settings(knowledge_dir=folder, index_dir=tmp_path / "index")
    Copilot(settings, embedder=HashingEmbedder(), model=model).triage(TriageRequest.model_validate(
        {"platform": "livechat", "messages": [{"role": "customer", "text": "Giao về 45 đại lộ Thăng Long"}]}))
    sent = " ".join(message["content"] for message in model.history[0].messages)
    assert "45 đại lộ" not in sent and "[ADDRESS_1]" in sent


@pytest.mark.slow
@pytest.mark.parametrize("masking", [True, False])
def test_the_llm_never_sees_the_raw_data_and_the_agent_gets_it_back(
    shipped_copilot: Copilot, masking: bool
) -> None:
    with FakeOpenAIServer() as llm:
        llm.enqueue("Dạ shop sẽ giao đến [ADDRESS_1] và liên hệ qua [EMAIL_1] ạ.")
        settings = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir,
                            llm_base_url=llm.base_url, llm_model="fake", pii_masking=masking)
        copilot = Copilot(settings, embedder=shipped_copilot.index.embedder)
        request: dict[str, Any] = {"platform": "livechat", "step": "troubleshoot",
                                   "messages": [{"role": "customer", "text": TEXT}]}
        response = copilot.draft(DraftRequest.model_validate(request))
        sent = " ".join(m["content"] for m in llm.history[0]["messages"])
    if masking:
        assert "0901 234 567" not in sent and "lan.nguyen@gmail.com" not in sent and "4111 1111" not in sent
        assert "[PHONE_1]" in sent
        assert "lan.nguyen@gmail.com" in response.draft and "123 Nguyễn Trãi" in response.draft
    else:
        assert "0901 234 567" in sent
