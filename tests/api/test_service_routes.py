"""Streaming drafts, feedback and stats, catalog, passages, API keys and CORS over real HTTP semantics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import SHIPPED_KNOWLEDGE
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot, Settings
from copilot.cli import app as cli

pytestmark = pytest.mark.slow
CANCEL = {"platform": "shopee", "customer": {"name": "Lan"}, "agent": {"name": "Minh", "brand": "Đậu Shop"},
          "messages": [{"role": "customer", "text": "Shop ơi"},
                       {"role": "agent", "text": "Dạ em chào chị Lan, em là Minh bên Đậu Shop ạ."},
                       {"role": "customer", "text": "Shop ơi em đặt nhầm size, muốn hủy đơn được không?"}]}


def shipped(shipped_copilot: Copilot, tmp_path: Path, **settings: Any) -> Copilot:
    config = Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=shipped_copilot.settings.index_dir,
                      data_dir=tmp_path / "data", **settings)
    return Copilot(config, embedder=shipped_copilot.index.embedder)


@pytest.fixture
def client(shipped_copilot: Copilot, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(copilot=shipped(shipped_copilot, tmp_path))) as test_client:
        yield test_client


def sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_stream_sends_deltas_then_the_final_response(client: TestClient) -> None:
    response = client.post("/v1/drafts/stream", json=CANCEL)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    deltas = [data["text"] for kind, data in events if kind == "delta"]
    kind, final = events[-1]
    assert kind == "final" and len(deltas) > 3
    assert "".join(deltas).strip() == final["draft"] and final["step"] == "troubleshoot"


def test_stream_rejects_bad_requests_before_streaming(client: TestClient) -> None:
    response = client.post("/v1/drafts/stream", json={**CANCEL, "platform": "amazon"})
    assert response.status_code == 400 and "amazon" in response.json()["error"]["message"]


def test_feedback_is_stored_and_counted_per_step_and_platform(client: TestClient) -> None:
    first = client.post("/v1/drafts", json=CANCEL).json()
    second = client.post("/v1/drafts", json={**CANCEL, "platform": "lazada"}).json()
    assert (
        client.post("/v1/feedback", json={"draft_id": first["draft_id"], "action": "accepted"}).status_code
        == 200
    )
    edited = {"draft_id": second["draft_id"], "action": "edited", "final_text": "Dạ chị tự hủy được ạ."}
    assert client.post("/v1/feedback", json=edited).json()["action"] == "edited"
    stats = client.get("/v1/stats").json()
    assert stats["total"] == {"drafts": 2, "feedback": 2, "accepted_rate": 0.5, "edited_rate": 0.5,
                              "rejected_rate": 0.0}
    assert stats["by_platform"]["lazada"]["edited_rate"] == 1.0
    assert stats["by_step"]["troubleshoot"]["drafts"] == 2


@pytest.mark.parametrize(("body", "status", "named"), [
    ({"draft_id": "nope", "action": "accepted"}, 400, "nope"),
    ({"draft_id": "x", "action": "loved"}, 422, "action"),
    ({"action": "accepted"}, 422, "draft_id"),
])
def test_bad_feedback_is_refused_clearly(
    client: TestClient, body: dict[str, str], status: int, named: str
) -> None:
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == status and named in response.json()["error"]["message"]


def test_catalog_lists_platforms_and_flow_steps(client: TestClient) -> None:
    platforms = {p["id"]: p for p in client.get("/v1/platforms").json()}
    assert platforms["shopee"]["marketplace"] and not platforms["livechat"]["marketplace"]
    flow = client.get("/v1/flows").json()[0]
    assert flow["id"] == "livechat" and [s["id"] for s in flow["steps"]][-1] == "farewell"


def test_a_cited_passage_can_be_read(client: TestClient) -> None:
    citation = client.post("/v1/drafts", json=CANCEL).json()["citations"][0]
    passage = client.get(
        "/v1/knowledge/passages", params={"id": citation["id"], "section": citation["section"]}
    )
    assert passage.status_code == 200 and passage.json()["text"]
    missing = client.get("/v1/knowledge/passages", params={"id": "nope", "section": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_sidebar_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["paths"]["/v1/drafts"]["post"]["description"]


def test_with_keys_every_v1_route_needs_the_bearer_key(shipped_copilot: Copilot, tmp_path: Path) -> None:
    copilot = shipped(shipped_copilot, tmp_path, api_keys="k-one, k-two")
    with TestClient(create_app(copilot=copilot)) as client:
        assert client.get("/healthz").status_code == 200
        missing = client.get("/v1/flows")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert client.get("/v1/flows", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/v1/flows", headers={"Authorization": "Bearer k-two"}).status_code == 200


def test_keys_can_come_from_a_file(shipped_copilot: Copilot, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# team keys\nfile-key\n")
    with TestClient(create_app(copilot=shipped(shipped_copilot, tmp_path, api_keys_file=keys))) as client:
        assert client.get("/v1/flows", headers={"Authorization": "Bearer file-key"}).status_code == 200


def test_cors_allows_the_configured_helpdesk_origin(shipped_copilot: Copilot, tmp_path: Path) -> None:
    copilot = shipped(shipped_copilot, tmp_path, cors_origins="https://desk.example.com")
    with TestClient(create_app(copilot=copilot)) as client:
        response = client.get("/v1/flows", headers={"Origin": "https://desk.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://desk.example.com"


def test_serve_refuses_a_public_address_without_keys() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback" in result.stderr


def test_readyz_waits_for_triage_and_the_first_triage_is_then_at_once(
    shipped_copilot: Copilot, tmp_path: Path
) -> None:
    copilot = shipped(shipped_copilot, tmp_path)
    cold = TestClient(create_app(copilot=copilot))  # no start-up: nothing prepared yet
    not_ready = cold.get("/readyz")
    assert not_ready.status_code == 503 and "triage" in not_ready.json()["error"]["message"]
    with TestClient(create_app(copilot=copilot)) as started:
        ready = started.get("/readyz")
        assert ready.status_code == 200 and ready.json()["triage"] == "ready"
        assert copilot.triage_ready  # prepared during start-up, not by the first request
        answer = started.post(
            "/v1/triage", json={"messages": [{"role": "customer", "text": "where is my order"}]}
        )
        assert answer.status_code == 200 and answer.json()["out_of_scope"] is False
