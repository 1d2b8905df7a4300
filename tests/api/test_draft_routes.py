from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from copilot import Copilot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(shipped_copilot: Copilot) -> Iterator[TestClient]:
    with TestClient(create_app(copilot=shipped_copilot)) as test_client:
        yield test_client


def test_draft_route_returns_the_contract_shape(client: TestClient) -> None:
    body = {
        "platform": "shopee",
        "messages": [{"role": "customer", "text": "shop oi don cua em bao gio giao"}],
    }
    response = client.post("/v1/drafts", json=body)
    assert response.status_code == 200
    data = response.json()
    assert {"draft_id", "draft", "step", "next_steps", "steps_done", "language", "citations", "guardrails",
            "handoff", "model", "degraded", "latency_ms"} <= set(data)
    assert data["step"] == "greeting" and data["language"] == "vi" and data["guardrails"]["allowed"] is True


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
