"""The bad inputs of the hardening issue, one by one on every route that takes them: a 4xx in the contract's
error shape whose message names what is wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers.triage_kb import TRIAGE_TABLE

from api.main import create_app
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

TRAVERSAL = "../../etc/passwd"
SAY = [{"role": "customer", "text": "hello"}]
CHATWOOT = {"event": "message_created", "message_type": "incoming", "content": "where is my order?",
            "conversation": {"id": 42}, "account": {"id": 7}}
JSON_ROUTES = ["/v1/drafts", "/v1/drafts/stream", "/v1/triage", "/v1/guardrails/check", "/v1/feedback",
               "/v1/integrations/chatwoot/webhook"]


@pytest.fixture
def client(make_knowledge: Callable[..., Path], tmp_path: Path) -> Iterator[TestClient]:
    knowledge = make_knowledge({"triage.yaml": TRIAGE_TABLE})
    config = Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    with TestClient(create_app(copilot=Copilot(config, embedder=HashingEmbedder()))) as test_client:
        yield test_client


BODIES = {
    # limits on message count and length
    "too many messages": ("/v1/drafts", {"messages": SAY * 201}, 422, "messages"),
    "too many messages to triage": ("/v1/triage", {"messages": SAY * 201}, 422, "messages"),
    "message too long": (
        "/v1/drafts",
        {"messages": [{"role": "customer", "text": "x" * 20_001}]},
        422,
        "text",
    ),
    "triage message too long": (
        "/v1/triage",
        {"messages": [{"role": "agent", "text": "x" * 20_001}]},
        422,
        "text",
    ),
    "reply too long to check": ("/v1/guardrails/check", {"text": "x" * 20_001}, 422, "text"),
    "edited text too long": (
        "/v1/feedback",
        {"draft_id": "d", "action": "edited", "final_text": "x" * 20_001},
        422,
        "final_text",
    ),
    "no messages": ("/v1/drafts", {"messages": []}, 422, "messages"),
    # unknown enum values
    "unknown role": ("/v1/drafts", {"messages": [{"role": "bot", "text": "hi"}]}, 422, "role"),
    "unknown tier": ("/v1/triage", {"messages": SAY, "customer": {"tier": "gold"}}, 422, "tier"),
    "unknown language": ("/v1/drafts", {"messages": SAY, "language": "fr"}, 422, "language"),
    "unknown action": ("/v1/feedback", {"draft_id": "d", "action": "loved"}, 422, "action"),
    # wrong types
    "messages as text": ("/v1/drafts", {"messages": "hello"}, 422, "messages"),
    "text as a list": ("/v1/guardrails/check", {"text": ["hi"]}, 422, "text"),
    "name as a number": ("/v1/triage", {"messages": SAY, "customer": {"name": 7}}, 422, "customer.name"),
    "body as a list": ("/v1/drafts", [SAY], 422, "request"),
    "unknown field": ("/v1/drafts", {"messages": SAY, "colour": "red"}, 422, "colour"),
    # unknown flow or platform
    "unknown platform": ("/v1/drafts", {"messages": SAY, "platform": "amazon"}, 400, "amazon"),
    "unknown flow": ("/v1/drafts", {"messages": SAY, "flow": "nope"}, 400, "nope"),
    "unknown step": ("/v1/drafts", {"messages": SAY, "step": "closing"}, 400, "closing"),
    "unknown platform to triage": ("/v1/triage", {"messages": SAY, "platform": "amazon"}, 400, "amazon"),
    "unknown flow to check": ("/v1/guardrails/check", {"text": "hi", "flow": "nope"}, 400, "nope"),
    "unknown platform to stream": (
        "/v1/drafts/stream",
        {"messages": SAY, "platform": "amazon"},
        400,
        "amazon",
    ),
    # path-like ids
    "path as flow": ("/v1/drafts", {"messages": SAY, "flow": TRAVERSAL}, 400, TRAVERSAL),
    "path as platform": ("/v1/triage", {"messages": SAY, "platform": TRAVERSAL}, 400, TRAVERSAL),
    "path as step": ("/v1/guardrails/check", {"text": "hi", "step": TRAVERSAL}, 400, TRAVERSAL),
    "path as draft id": ("/v1/feedback", {"draft_id": TRAVERSAL, "action": "accepted"}, 400, TRAVERSAL),
    "path as conversation id": (
        "/v1/integrations/chatwoot/webhook",
        {**CHATWOOT, "conversation": {"id": "1/../../admin"}},
        422,
        "conversation",
    ),
    "path as account id": (
        "/v1/integrations/chatwoot/webhook",
        {**CHATWOOT, "account": {"id": TRAVERSAL}},
        422,
        "account",
    ),
}


def assert_refused(response: Any, status: int, named: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and named in error["message"], error


@pytest.mark.parametrize(("path", "body", "status", "named"), list(BODIES.values()), ids=list(BODIES))
def test_bad_bodies_are_refused_naming_the_problem(
    client: TestClient, path: str, body: object, status: int, named: str
) -> None:
    assert_refused(client.post(path, json=body), status, named)


QUERIES = {
    "query too long": ("/v1/knowledge/search", {"q": "x" * 2001}, 422, "q"),
    "k not a number": ("/v1/knowledge/search", {"q": "popup", "k": "abc"}, 422, "k"),
    "k too large": ("/v1/knowledge/search", {"q": "popup", "k": 51}, 422, "k"),
    "unknown mode": ("/v1/knowledge/search", {"q": "popup", "mode": "fuzzy"}, 422, "mode"),
    "unknown search platform": ("/v1/knowledge/search", {"q": "popup", "platform": "amazon"}, 400, "amazon"),
    "unknown kind": ("/v1/knowledge/search", {"q": "popup", "kind": "poem"}, 400, "poem"),
    "path as search step": ("/v1/knowledge/search", {"q": "popup", "step": TRAVERSAL}, 400, TRAVERSAL),
    "path as document id": ("/v1/knowledge/passages", {"id": TRAVERSAL, "section": "Fix"}, 404, TRAVERSAL),
    "path as section": (
        "/v1/knowledge/passages",
        {"id": "popup-not-showing", "section": TRAVERSAL},
        404,
        TRAVERSAL,
    ),
    "document id too long": ("/v1/knowledge/passages", {"id": "x" * 129, "section": "Fix"}, 422, "id"),
}


@pytest.mark.parametrize(("path", "params", "status", "named"), list(QUERIES.values()), ids=list(QUERIES))
def test_bad_queries_are_refused_naming_the_problem(
    client: TestClient, path: str, params: dict[str, str | int], status: int, named: str
) -> None:
    assert_refused(client.get(path, params=params), status, named)


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize(("raw", "status", "named"), [
    (b'{"messages": [', 422, "not valid JSON: Expecting value at character 14"),
    (b"{bad", 422, "not valid JSON"),
    (b"\xff\xfe{}", 422, "not valid JSON"),
    (b"[" * 100_000, 400, "nested too deeply"),
], ids=["cut short", "bad token", "not utf-8", "nested too deep"])
def test_broken_json_is_refused_on_every_route_that_takes_json(
    client: TestClient, path: str, raw: bytes, status: int, named: str
) -> None:
    assert_refused(
        client.post(path, content=raw, headers={"content-type": "application/json"}), status, named
    )


def test_a_numeric_chatwoot_id_still_reaches_triage(client: TestClient) -> None:
    response = client.post(
        "/v1/integrations/chatwoot/webhook", json={**CHATWOOT, "conversation": {"id": "42"}}
    )
    assert response.status_code == 200 and response.json()["triage"]["intent"]
