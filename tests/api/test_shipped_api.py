"""What the shipped knowledge makes the API do, with the real packaged model (slow: `shipped_copilot`): the
webhook answers a billing question from the shipped uninstall FAQ and hands a legal threat to the shipped
legal team, the draft routes greet and answer Shopee buyers in Vietnamese. The routes' code is tested on
small knowledge bases in `test_chatwoot.py`, `test_service_routes.py` and `test_draft_routes.py`; the
assertions here are steps, citation ids, teams and verdicts, not the shipped sentences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from helpers import SHIPPED_KNOWLEDGE
from helpers.api_kb import WEBHOOK, chatwoot_event, fake_chatwoot, sse

from api.main import create_app
from copilot import Copilot, Settings


def shipped_client(shipped_copilot: Copilot, tmp_path: Path, **settings: Any) -> TestClient:
    """An app over the shipped index (shared, read-only) with its own data folder and `settings`."""
    config = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir,
                      data_dir=tmp_path / "data", **settings)
    return TestClient(create_app(copilot=Copilot(config, embedder=shipped_copilot.index.embedder)))


def test_shipped_webhook_answers_an_uninstall_billing_question_from_the_uninstall_faq(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    question = "Cho mình hỏi gỡ app ra thì có bị tính phí tiếp không?"
    with (fake_chatwoot() as chatwoot,
          shipped_client(shipped_copilot, tmp_path, chatwoot_url=chatwoot.url, chatwoot_token="t") as client):
        data = client.post(WEBHOOK, json=chatwoot_event(question)).json()
    reply = data["triage"]["auto_reply"]
    assert data["actions"] == ["replied"] and data["triage"]["language"] == "vi", data["triage"]["reasons"]
    assert "faq-uninstall-app" in [c["id"] for c in reply["citations"]]
    assert chatwoot.calls[0][2] == {"content": reply["text"], "message_type": "outgoing"}


def test_shipped_webhook_hands_a_legal_threat_to_legal_trust_within_15_minutes(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    threat = "Shop bán hàng nhái, tôi sẽ nhờ luật sư kiện shop ra tòa!"
    with (fake_chatwoot() as chatwoot,
          shipped_client(shipped_copilot, tmp_path, chatwoot_url=chatwoot.url, chatwoot_token="t") as client):
        triage = client.post(WEBHOOK, json=chatwoot_event(threat)).json()["triage"]
    assert (triage["urgency"], triage["route"], triage["handoff"], triage["sla_minutes"]) == (
        "urgent", "legal-trust", True, 15)
    assert chatwoot.endpoints() == ["messages", "toggle_status"]
    assert chatwoot.calls[0][2]["content"] == triage["holding_message"] and "Lan" in triage["holding_message"]


def test_shipped_draft_route_greets_a_first_shopee_message_in_vietnamese(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    body = {"platform": "shopee", "customer": {"name": "Vy"},
            "messages": [{"role": "customer", "text": "shop ơi cho mình hỏi xíu"}]}
    with shipped_client(shipped_copilot, tmp_path) as client:
        data = client.post("/v1/drafts", json=body).json()
    assert (data["step"], data["language"], data["guardrails"]["allowed"]) == ("greeting", "vi", True)


def test_shipped_stream_drafts_a_cancel_while_packing_from_the_before_shipping_macro(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    body = {"platform": "shopee", "customer": {"name": "Vy"}, "agent": {"name": "Tú", "brand": "Nhà Len"},
            "messages": [{"role": "customer", "text": "alo shop"},
                         {"role": "agent", "text": "Dạ Nhà Len xin chào chị Vy, em là Tú ạ."},
                         {"role": "customer", "text": "Em lỡ chọn sai màu len, đơn vẫn đang chờ shop đóng "
                                                      "gói, em hủy đơn được không ạ?"}]}
    with shipped_client(shipped_copilot, tmp_path) as client:
        events = sse(client.post("/v1/drafts/stream", json=body).text)
    kind, final = events[-1]
    deltas = "".join(data["text"] for kind, data in events if kind == "delta")
    assert kind == "final" and deltas.strip() == final["draft"]
    assert final["step"] == "troubleshoot" and final["language"] == "vi"
    assert [c["id"] for c in final["citations"]] == ["macro-cancel-before-shipping"]
    assert final["guardrails"]["allowed"], final["guardrails"]
