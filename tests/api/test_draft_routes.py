"""The draft route's contract, on the small plant-shop knowledge base of `helpers.draft_kb` with the hashing
embedder: a first Shopee hello gets the fixture's own Vietnamese hello and its question for a need not yet
read. What the shipped knowledge drafts over HTTP is checked in `test_shipped_api.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from helpers.draft_kb import ANSWERS, HELLO, SHOPEE_AGENT, draft_knowledge, indexed_copilot

from api.main import create_app

CONTRACT = {"draft_id", "draft", "step", "next_steps", "steps_done", "language", "citations", "guardrails",
            "handoff", "model", "degraded", "latency_ms"}
WHAT_IS_IT_VI = yaml.safe_load(ANSWERS)["questions"]["_unknown"]["vi"]  # asked when no need is read yet


@pytest.fixture
def client(make_knowledge: Callable[..., Path], tmp_path: Path) -> Iterator[TestClient]:
    copilot = indexed_copilot(draft_knowledge(make_knowledge), tmp_path / "index", data_dir=tmp_path / "data")
    with TestClient(create_app(copilot=copilot)) as test_client:
        yield test_client


def test_draft_route_returns_the_contract_shape(client: TestClient) -> None:
    body = {
        "platform": "shopee", "customer": {"name": "Lan"}, "agent": SHOPEE_AGENT,
        "messages": [{"role": "customer", "text": "xin chào shop nha"}],
    }
    response = client.post("/v1/drafts", json=body)
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= CONTRACT and data["draft_id"]
    assert (data["step"], data["language"], data["model"], data["degraded"]) == (
        "hello", "vi", "local", False)
    hello = HELLO["vi"].format(customer_name="Lan", agent_name=SHOPEE_AGENT["name"],
                               brand=SHOPEE_AGENT["brand"])
    assert data["draft"] == f"{hello} {WHAT_IS_IT_VI}" and data["citations"] == []
    assert data["guardrails"] == {"allowed": True, "violations": [], "repairs": []}


@pytest.mark.parametrize(("body", "named"), [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "bot", "text": "x"}]}, "role"),
    ({"messages": [{"role": "customer", "text": "x"}], "customer": {"tier": "gold"}}, "tier"),
    ({"messages": [{"role": "customer", "text": "x"}], "platform": "amazon"}, "amazon"),
    ({"messages": [{"role": "customer", "text": "x" * 20_001}]}, "text"),
])
def test_bad_draft_requests_are_4xx_naming_the_problem(
    client: TestClient, body: dict[str, object], named: str
) -> None:
    response = client.post("/v1/drafts", json=body)
    assert 400 <= response.status_code < 500 and named in response.json()["error"]["message"]
