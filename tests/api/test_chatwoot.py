"""The Chatwoot Agent Bot webhook against a small Chatwoot-shaped HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import SHIPPED_KNOWLEDGE

from api.main import create_app
from copilot import Copilot, Settings

pytestmark = pytest.mark.slow


class FakeChatwoot:
    """Records every API call with its token; answers 200 (or `status`)."""

    def __init__(self, status: int = 200) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.calls.append((self.path, self.headers.get("api_access_token", ""), body))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    fake = FakeChatwoot()
    yield fake
    fake.server.shutdown()


def client_for(shipped_copilot: Copilot, tmp_path: Path, **settings: Any) -> TestClient:
    config = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir,
                      data_dir=tmp_path / "data", **settings)
    return TestClient(create_app(copilot=Copilot(config, embedder=shipped_copilot.index.embedder)))


def event(text: str, channel: str = "Channel::WebWidget") -> dict[str, Any]:
    return {
        "event": "message_created",
        "message_type": "incoming",
        "content": text,
        "conversation": {"id": 42, "channel": channel, "messages": [{"message_type": 0, "content": text}]},
        "account": {"id": 7},
        "sender": {"name": "Lan"},
    }


def test_a_policy_question_is_answered_in_the_conversation(
    shipped_copilot: Copilot, tmp_path: Path, chatwoot: FakeChatwoot
) -> None:
    with client_for(
        shipped_copilot, tmp_path, chatwoot_url=chatwoot.url, chatwoot_token="bot-token"
    ) as client:
        reply = client.post("/v1/integrations/chatwoot/webhook",
                            json=event("Cho mình hỏi gỡ app ra thì có bị tính phí tiếp không?"))
    assert reply.status_code == 200 and reply.json()["actions"] == ["replied"], reply.json()
    path, token, body = chatwoot.calls[0]
    assert path == "/api/v1/accounts/7/conversations/42/messages" and token == "bot-token"
    assert body["message_type"] == "outgoing" and "Uninstall" in body["content"]


def test_a_legal_threat_is_handed_to_a_person(
    shipped_copilot: Copilot, tmp_path: Path, chatwoot: FakeChatwoot
) -> None:
    with client_for(shipped_copilot, tmp_path, chatwoot_url=chatwoot.url, chatwoot_token="t") as client:
        data = client.post("/v1/integrations/chatwoot/webhook",
                           json=event("Tôi sẽ kiện shop vì giao hàng giả!")).json()
    assert data["triage"]["handoff"] is True and data["triage"]["urgency"] == "urgent"
    assert [call[0].rsplit("/", 1)[-1] for call in chatwoot.calls] == ["messages", "toggle_status"]
    assert chatwoot.calls[1][2] == {"status": "open"} and "15 phút" in chatwoot.calls[0][2]["content"]


def test_without_configuration_it_only_returns_the_triage(shipped_copilot: Copilot, tmp_path: Path) -> None:
    with client_for(shipped_copilot, tmp_path) as client:
        data = client.post(
            "/v1/integrations/chatwoot/webhook", json=event("how do I translate the widget?")
        ).json()
    assert data["actions"] == ["none: Chatwoot is not configured"] and "urgency" in data["triage"]


def test_other_events_and_outgoing_messages_are_ignored(shipped_copilot: Copilot, tmp_path: Path) -> None:
    with client_for(shipped_copilot, tmp_path) as client:
        assert "ignored" in client.post("/v1/integrations/chatwoot/webhook",
                                        json={**event("hi"), "event": "conversation_created"}).json()
        assert "ignored" in client.post("/v1/integrations/chatwoot/webhook",
                                        json={**event("hi"), "message_type": "outgoing"}).json()


def test_chatwoot_down_is_a_502_not_a_crash(shipped_copilot: Copilot, tmp_path: Path) -> None:
    with client_for(
        shipped_copilot, tmp_path, chatwoot_url="http://127.0.0.1:9", chatwoot_token="t"
    ) as client:
        response = client.post("/v1/integrations/chatwoot/webhook", json=event("Tôi sẽ kiện shop!"))
    assert response.status_code == 502 and response.json()["error"]["code"] == "chatwoot_unreachable"


def test_with_api_keys_the_webhook_takes_the_key_in_its_url(shipped_copilot: Copilot, tmp_path: Path) -> None:
    with client_for(shipped_copilot, tmp_path, api_keys="secret") as client:
        assert client.post("/v1/integrations/chatwoot/webhook", json=event("hi")).status_code == 401
        ok = client.post("/v1/integrations/chatwoot/webhook?api_key=secret", json=event("hi"))
        assert ok.status_code == 200


def test_the_conversations_platform_is_the_one_the_knowledge_base_names_for_its_channel(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    from api.integrations.chatwoot import ChatwootEvent

    platforms = {"Channel::Email": "hotline"}.get  # as a team's platforms.yaml would say
    parsed = ChatwootEvent.model_validate({**event("hello", channel="Channel::Email"), "id": 5})
    assert parsed.triage_request(lambda channel: platforms(channel) or "livechat").platform == "hotline"
    stored = parsed.stored_message(lambda channel: platforms(channel) or "livechat")
    assert stored is not None and stored.platform == "hotline"
    served = {p["id"]: p for p in client_for(shipped_copilot, tmp_path).get("/v1/platforms").json()}
    knowledge = shipped_copilot.knowledge
    assert {key: p["chatwoot"] for key, p in served.items()} == {
        key: list(p.chatwoot) for key, p in knowledge.platforms.items()}  # one copy, served to the sidebar
    assert [key for key, p in served.items() if p["default"]] == [knowledge.default_platform]
