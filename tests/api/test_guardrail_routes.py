from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder


@pytest.fixture
def client(make_knowledge: Callable[..., Path], tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(knowledge_dir=make_knowledge(), index_dir=tmp_path / "index")
    with TestClient(create_app(copilot=Copilot(settings, embedder=HashingEmbedder()))) as test_client:
        yield test_client


def test_check_returns_the_contract_shape(client: TestClient) -> None:
    body = {
        "text": "Thanks, bye!",
        "platform": "livechat",
        "flow": "livechat",
        "step": "farewell",
        "language": "auto",
    }
    response = client.post("/v1/guardrails/check", json=body)
    assert response.status_code == 200
    verdict = response.json()
    assert verdict["allowed"] is False
    assert [v["rule"] for v in verdict["violations"]] == ["review_ask_missing"]
    assert set(verdict["violations"][0]) == {"rule", "severity", "message", "span"}


def test_allowed_text_has_no_violations(client: TestClient) -> None:
    body = {"text": "Nếu anh/chị muốn hủy, anh/chị có thể tự gửi yêu cầu Hủy đơn trên ứng dụng ạ.",
            "platform": "shopee", "step": "troubleshoot"}
    assert client.post("/v1/guardrails/check", json=body).json() == {"allowed": True, "violations": []}


@pytest.mark.parametrize(("body", "named"), [
    ({"text": "x", "platform": "amazon"}, "amazon"),
    ({"text": "x", "step": "closing"}, "closing"),
    ({"text": "x", "flow": "nope"}, "nope"),
    ({"text": "x", "language": "fr"}, "language"),
    ({"platform": "shopee"}, "text"),
    ({"text": "x", "colour": "red"}, "colour"),
])
def test_bad_requests_are_4xx_naming_the_problem(
    client: TestClient, body: dict[str, str], named: str
) -> None:
    response = client.post("/v1/guardrails/check", json=body)
    assert 400 <= response.status_code < 500
    assert named in response.json()["error"]["message"]


def test_broken_json_is_a_4xx(client: TestClient) -> None:
    response = client.post(
        "/v1/guardrails/check", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and "error" in response.json()
