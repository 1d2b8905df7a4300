"""Streaming drafts, feedback and stats, catalog, passages, API keys and CORS over real HTTP semantics, on the
small plant-shop knowledge base of `helpers.draft_kb` with the hashing embedder: every assertion names the
fixture's own steps, units and replies. What the shipped knowledge makes the routes answer is checked in
`test_shipped_api.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from helpers.api_kb import sse
from helpers.draft_kb import (
    CANCEL_WHILE_PACKING,
    FLOW,
    THANKS,
    WHILE_PACKING_REPLY,
    draft_knowledge,
    indexed_copilot,
)
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot
from copilot.cli import app as cli

PACKING_ANSWER = WHILE_PACKING_REPLY.replace("anh/chị {customer_name}", "chị Lan")  # slots filled
STEP_IDS = [step["id"] for step in yaml.safe_load(FLOW)["steps"]]


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., Copilot]:
    """A copilot over the plant-shop fixture, indexed; `settings` go to its Settings (keys, CORS)."""
    knowledge = draft_knowledge(make_knowledge)

    def make(**settings: Any) -> Copilot:
        copilot: Copilot = indexed_copilot(knowledge, tmp_path / "index", data_dir=tmp_path / "data",
                                           **settings)
        return copilot

    return make


@pytest.fixture
def client(build: Callable[..., Copilot]) -> Iterator[TestClient]:
    with TestClient(create_app(copilot=build())) as test_client:
        yield test_client


def test_stream_sends_deltas_then_the_final_response(client: TestClient) -> None:
    response = client.post("/v1/drafts/stream", json=CANCEL_WHILE_PACKING)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    deltas = [data["text"] for kind, data in events if kind == "delta"]
    kind, final = events[-1]
    assert kind == "final" and len(deltas) > 3 and [k for k, _ in events[:-1]] == ["delta"] * len(deltas)
    assert "".join(deltas).strip() == final["draft"] == PACKING_ANSWER
    assert final["step"] == "solution" and [c["id"] for c in final["citations"]] == ["while-packing"]


def test_stream_rejects_bad_requests_before_streaming(client: TestClient) -> None:
    response = client.post("/v1/drafts/stream", json={**CANCEL_WHILE_PACKING, "platform": "amazon"})
    assert response.status_code == 400 and "amazon" in response.json()["error"]["message"]
    assert not response.headers["content-type"].startswith("text/event-stream")


def test_feedback_is_stored_and_counted_per_step_and_platform(client: TestClient) -> None:
    packing = client.post("/v1/drafts", json=CANCEL_WHILE_PACKING).json()
    thanks = client.post("/v1/drafts", json=THANKS).json()
    assert (packing["step"], thanks["step"]) == ("solution", "goodbye")
    accepted = client.post("/v1/feedback", json={"draft_id": packing["draft_id"], "action": "accepted"})
    assert accepted.status_code == 200
    edited = {"draft_id": thanks["draft_id"], "action": "edited", "final_text": "Thanks Anna, bye for now!"}
    assert client.post("/v1/feedback", json=edited).json()["action"] == "edited"
    stats = client.get("/v1/stats").json()
    assert stats["total"] == {"drafts": 2, "feedback": 2, "accepted_rate": 0.5, "edited_rate": 0.5,
                              "rejected_rate": 0.0}
    assert stats["by_platform"]["shopee"]["accepted_rate"] == 1.0
    assert stats["by_platform"]["livechat"]["edited_rate"] == 1.0
    assert stats["by_step"]["solution"]["drafts"] == stats["by_step"]["goodbye"]["drafts"] == 1


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
    assert set(platforms) == {"livechat", "shopee"}
    assert platforms["shopee"]["marketplace"] and not platforms["livechat"]["marketplace"]
    flows = client.get("/v1/flows").json()
    assert [(flow["id"], flow["default"]) for flow in flows] == [("livechat", True)]
    assert [s["id"] for s in flows[0]["steps"]] == STEP_IDS and STEP_IDS[-1] == "goodbye"


def test_a_cited_passage_can_be_read(client: TestClient) -> None:
    citation = client.post("/v1/drafts", json=CANCEL_WHILE_PACKING).json()["citations"][0]
    assert (citation["id"], citation["section"]) == ("while-packing", "Trả lời mẫu")
    passage = client.get(
        "/v1/knowledge/passages", params={"id": citation["id"], "section": citation["section"]}
    )
    assert passage.status_code == 200 and passage.json()["text"] == WHILE_PACKING_REPLY
    missing = client.get("/v1/knowledge/passages", params={"id": "nope", "section": "x"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_sidebar_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["paths"]["/v1/drafts"]["post"]["description"]


def test_with_keys_every_v1_route_needs_the_bearer_key(build: Callable[..., Copilot]) -> None:
    with TestClient(create_app(copilot=build(api_keys="k-one, k-two"))) as client:
        assert client.get("/healthz").status_code == 200
        missing = client.get("/v1/flows")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        assert client.get("/v1/flows", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/v1/flows", headers={"Authorization": "Bearer k-two"}).status_code == 200


def test_keys_can_come_from_a_file(build: Callable[..., Copilot], tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# team keys\nfile-key\n")
    with TestClient(create_app(copilot=build(api_keys_file=keys))) as client:
        assert client.get("/v1/flows", headers={"Authorization": "Bearer file-key"}).status_code == 200
        assert client.get("/v1/flows", headers={"Authorization": "Bearer # team keys"}).status_code == 401


def test_cors_allows_the_configured_helpdesk_origin(build: Callable[..., Copilot]) -> None:
    with TestClient(create_app(copilot=build(cors_origins="https://desk.example.com"))) as client:
        response = client.get("/v1/flows", headers={"Origin": "https://desk.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://desk.example.com"
        other = client.get("/v1/flows", headers={"Origin": "https://elsewhere.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_serve_refuses_a_public_address_without_keys() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback" in result.stderr


def test_readyz_waits_for_triage_and_the_first_triage_is_then_at_once(build: Callable[..., Copilot]) -> None:
    copilot = build()
    cold = TestClient(create_app(copilot=copilot))  # no start-up: nothing prepared yet
    not_ready = cold.get("/readyz")
    assert not_ready.status_code == 503 and "triage" in not_ready.json()["error"]["message"]
    with TestClient(create_app(copilot=copilot)) as started:
        ready = started.get("/readyz")
        assert ready.status_code == 200 and ready.json()["triage"] == "ready"
        assert copilot.triage_ready  # prepared during start-up, not by the first request
        question = "how long before the points of my shoppers run out"
        answer = started.post("/v1/triage", json={"messages": [{"role": "customer", "text": question}]})
        assert answer.status_code == 200 and answer.json()["intent"] == "points_question"
        assert answer.json()["auto_reply"]["citations"][0]["id"] == "points-expiry"
