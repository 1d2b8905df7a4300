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
    assert [v["rule"] for v in verdict["violations"]] == ["farewell_review_ask"]
    assert set(verdict["violations"][0]) == {"rule", "severity", "message", "span"}


def test_allowed_text_has_no_violations(client: TestClient) -> None:
    """The mini pack's cancel rule matches "go ahead and cancel"; the buyer's own choice ("if you wish") is
    its exception."""
    body = {"text": "If you wish, you can go ahead and cancel it from the order page.", "platform": "shopee",
            "step": "troubleshoot"}
    assert client.post("/v1/guardrails/check", json=body).json() == {"allowed": True, "violations": []}
    pushed = {**body, "text": "Please go ahead and cancel it from the order page."}
    assert client.post("/v1/guardrails/check", json=pushed).json()["allowed"] is False


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


def test_a_draft_checked_with_its_conversation_is_held_to_what_the_conversation_shows(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """With `messages`, the text is a draft for that conversation: a rule with `unless_said` applies."""
    rule = ("rules:\n  - id: unshown_swap\n    type: forbidden\n    unless_said: true\n"
            "    patterns: ['\\bswap (is|was) (booked|done)\\b']\n"
            "    message: {en: \"Do not report a swap the conversation does not show.\"}\n")
    root = make_knowledge({"rules/team.yaml": rule})
    settings = Settings(knowledge_dir=root, index_dir=tmp_path / "own-index")
    with TestClient(create_app(copilot=Copilot(settings, embedder=HashingEmbedder()))) as own:
        body = {"text": "Your swap was booked for Monday.", "platform": "livechat"}
        assert own.post("/v1/guardrails/check", json=body).json()["allowed"] is True  # an agent's own reply
        chat = [{"role": "customer", "text": "can I swap the blue one for red?"}]
        verdict = own.post("/v1/guardrails/check", json={**body, "messages": chat}).json()
        assert [v["rule"] for v in verdict["violations"]] == ["unshown_swap"]
        shown = [*chat, {"role": "agent", "text": "Done: your swap is booked."}]
        assert own.post("/v1/guardrails/check", json={**body, "messages": shown}).json()["allowed"] is True
        bad = own.post("/v1/guardrails/check", json={**body, "messages": [{"role": "bot", "text": "x"}]})
        assert 400 <= bad.status_code < 500 and "role" in bad.json()["error"]["message"]
