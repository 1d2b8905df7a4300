"""The Chatwoot Agent Bot webhook against a small Chatwoot-shaped HTTP server on 127.0.0.1, on a copilot over
the small triage knowledge base of `helpers.triage_kb` whose platforms name Chatwoot channels
(`helpers.api_kb`), with the hashing embedder: every posted message is one of the fixture's own. What the
shipped knowledge makes the webhook do is checked in `test_shipped_api.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers.api_kb import (
    CANCEL_REPLY,
    CHATWOOT_DOCS,
    WEBHOOK,
    FakeChatwoot,
    chatwoot_event,
    fake_chatwoot,
)
from helpers.draft_kb import indexed_copilot
from helpers.servers import free_port

from api.integrations.chatwoot import ChatwootEvent
from api.main import create_app

CANCEL = "Mình muốn tự hủy đơn vừa đặt thì làm sao ạ?"
THREAT = "Shop bán hàng giả, tôi sẽ kiện ra tòa!"
THREAT_HOLDING = "Chào Lan, người của quầy sẽ trả lời trong 5 phút."  # the table's vi holding message, 5 min
POPUP = "my popup is not showing on the homepage"
MESSAGES = "/api/v1/accounts/7/conversations/42/messages"


@pytest.fixture
def serve(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., TestClient]:
    """A client of an app over the fixture; `settings` go to the copilot's Settings (Chatwoot, keys)."""
    knowledge = make_knowledge(CHATWOOT_DOCS)

    def make(**settings: Any) -> TestClient:
        copilot = indexed_copilot(knowledge, tmp_path / "index", data_dir=tmp_path / "data", **settings)
        return TestClient(create_app(copilot=copilot))

    return make


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    with fake_chatwoot() as fake:
        yield fake


def test_a_policy_question_is_answered_in_the_conversation(
    serve: Callable[..., TestClient], chatwoot: FakeChatwoot
) -> None:
    with serve(chatwoot_url=chatwoot.url, chatwoot_token="bot-token") as client:
        reply = client.post(WEBHOOK, json=chatwoot_event(CANCEL, channel="Channel::Api"))
    assert reply.status_code == 200 and reply.json()["actions"] == ["replied"], reply.json()
    assert chatwoot.calls == [(MESSAGES, "bot-token", {"content": CANCEL_REPLY, "message_type": "outgoing"})]
    assert reply.json()["triage"]["auto_reply"]["citations"][0]["id"] == "cancel-how-to"


def test_a_legal_threat_is_handed_to_a_person(
    serve: Callable[..., TestClient], chatwoot: FakeChatwoot
) -> None:
    with serve(chatwoot_url=chatwoot.url, chatwoot_token="t") as client:
        data = client.post(WEBHOOK, json=chatwoot_event(THREAT)).json()
    triage = data["triage"]
    assert (triage["handoff"], triage["urgency"], triage["route"]) == (True, "urgent", "trust-desk")
    assert data["actions"] == ["sent holding message", "handed over to a person"]
    assert chatwoot.endpoints() == ["messages", "toggle_status"]
    assert chatwoot.calls[0][2] == {"content": THREAT_HOLDING, "message_type": "outgoing"}
    assert chatwoot.calls[1][2] == {"status": "open"}


def test_without_configuration_it_only_returns_the_triage(
    serve: Callable[..., TestClient], chatwoot: FakeChatwoot
) -> None:
    with serve() as client:
        data = client.post(WEBHOOK, json=chatwoot_event(THREAT)).json()
    assert data["actions"] == ["none: Chatwoot is not configured"]
    assert data["triage"]["holding_message"] == THREAT_HOLDING and chatwoot.calls == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"event": "conversation_created"}, "event 'conversation_created' is not a new message"),
    ({"message_type": "outgoing"}, "not a message from the customer"),
    ({"content": "   "}, "the message has no text"),
], ids=["other-event", "outgoing", "blank"])
def test_other_events_and_outgoing_messages_are_ignored(
    serve: Callable[..., TestClient], chatwoot: FakeChatwoot, change: dict[str, str], reason: str
) -> None:
    with serve(chatwoot_url=chatwoot.url, chatwoot_token="t") as client:
        data = client.post(WEBHOOK, json={**chatwoot_event(THREAT), **change}).json()
    assert data["ignored"] == reason and "triage" not in data and chatwoot.calls == []


def test_chatwoot_down_is_a_502_not_a_crash(serve: Callable[..., TestClient]) -> None:
    with serve(chatwoot_url=f"http://127.0.0.1:{free_port()}", chatwoot_token="t") as client:
        response = client.post(WEBHOOK, json=chatwoot_event(THREAT))
    assert response.status_code == 502 and response.json()["error"]["code"] == "chatwoot_unreachable"


def test_chatwoot_refusing_the_call_is_a_502_naming_its_answer(serve: Callable[..., TestClient]) -> None:
    with (fake_chatwoot(status=401) as refusing,
          serve(chatwoot_url=refusing.url, chatwoot_token="t") as client):
        response = client.post(WEBHOOK, json=chatwoot_event(THREAT))
    error = response.json()["error"]
    assert response.status_code == 502 and error["code"] == "chatwoot_unreachable"
    assert f"Chatwoot answered 401 to {MESSAGES}" in error["message"]
    assert refusing.endpoints() == ["messages"]  # no hand-over after a refused holding message


def test_with_api_keys_the_webhook_takes_the_key_in_its_url(serve: Callable[..., TestClient]) -> None:
    with serve(api_keys="secret") as client:
        assert client.post(WEBHOOK, json=chatwoot_event(THREAT)).status_code == 401
        assert client.post(f"{WEBHOOK}?api_key=wrong", json=chatwoot_event(THREAT)).status_code == 401
        ok = client.post(f"{WEBHOOK}?api_key=secret", json=chatwoot_event(THREAT))
        assert ok.status_code == 200 and ok.json()["triage"]["route"] == "trust-desk"


def test_the_webhook_triages_on_the_platform_the_knowledge_base_names_for_the_channel(
    serve: Callable[..., TestClient]
) -> None:
    """Email's service level is 180 minutes for a medium problem, chat's 90; the cancel macro is Shopee's,
    and Shopee is where a channel no platform names lands."""
    with serve() as client:
        def triage(text: str, channel: str) -> dict[str, Any]:
            data: dict[str, Any] = client.post(WEBHOOK, json=chatwoot_event(text, channel=channel)).json()
            return data["triage"]

        email, chat = triage(POPUP, "Channel::Email"), triage(POPUP, "Channel::WebWidget")
        unnamed, widget = triage(CANCEL, "Channel::Telegram"), triage(CANCEL, "Channel::WebWidget")
    assert (email["sla_minutes"], chat["sla_minutes"]) == (180, 90)
    assert email["holding_message"] == "Hello Lan, a person from the desk answers within 3 hrs."
    assert unnamed["route"] == "market-desk" and unnamed["auto_reply"]["text"] == CANCEL_REPLY
    assert widget["route"] == "front-desk" and widget["auto_reply"] is None


def test_the_channel_map_is_the_knowledge_bases_one_copy_served_to_the_sidebar(
    serve: Callable[..., TestClient]
) -> None:
    with serve() as client:
        platform_of = client.app.state.copilot.knowledge.chatwoot_platform
        served = {p["id"]: p for p in client.get("/v1/platforms").json()}
    parsed = ChatwootEvent.model_validate({**chatwoot_event("hello", channel="Channel::Email"), "id": 5})
    stored = parsed.stored_message(platform_of)
    assert parsed.triage_request(platform_of).platform == "email"
    assert stored is not None and stored.platform == "email"
    assert {key: p["chatwoot"] for key, p in served.items()} == {
        "livechat": ["Channel::WebWidget"], "shopee": [], "email": ["Channel::Email"]}
    assert [key for key, p in served.items() if p["default"]] == ["shopee"]
