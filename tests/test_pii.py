"""Personal data is masked before it reaches an outside LLM, and put back in the draft."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SHIPPED_KNOWLEDGE

from bench.openai_server import FakeOpenAIServer
from copilot import Copilot, Settings
from copilot.contracts import DraftRequest
from copilot.understand.pii import PiiMasker

TEXT = ("Chị gửi về 123 Nguyễn Trãi, phường 2, quận 5, sđt 0901 234 567, email lan.nguyen@gmail.com, "
        "thẻ 4111 1111 1111 1111. Mã đơn 230512ABC, size 42, giá 350.000đ.")


def test_each_kind_of_personal_data_gets_a_token_and_comes_back() -> None:
    masker = PiiMasker()
    masked = masker.mask(TEXT)
    for value in ("0901 234 567", "lan.nguyen@gmail.com", "4111 1111 1111 1111", "123 Nguyễn Trãi"):
        assert value not in masked
    assert {"[PHONE_1]", "[EMAIL_1]", "[CARD_1]", "[ADDRESS_1]"} <= set(masker.tokens)
    assert "230512ABC" in masked and "size 42" in masked and "350.000đ" in masked
    assert masker.unmask(masked) == TEXT


def test_the_same_value_gets_the_same_token() -> None:
    masker = PiiMasker()
    assert (
        masker.mask("call 0901234567") == "call [PHONE_1]" and masker.mask("or 0901234567") == "or [PHONE_1]"
    )


def test_numbers_that_are_not_cards_stay() -> None:
    assert PiiMasker().mask("order 1234 5678 9012 3456") == "order 1234 5678 9012 3456"


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
