"""With API keys set, every route but the public ones refuses a missing or wrong key; keys are compared in
constant time; neither keys nor customer text reach the logs, uvicorn's access log included."""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from helpers.servers import free_port, serving
from helpers.triage_kb import TRIAGE_TABLE
from starlette.routing import Mount

from api.main import create_app
from bench.openai_server import FakeOpenAIServer, Reply
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

KEY, OTHER_KEY = "k-7f3a9c-SECRET-e21d", "k-second-team-key"
CUSTOMER_TEXT = "Zebra-Quokka 4471 shop oi em muon huy don"
LLM_KEY = "sk-llm-5d8e-SECRET"
PUBLIC = {
    "/healthz",
    "/readyz",
    "/sidebar",
    "/review",
    "/static",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def requests_for(route: RouteContext) -> list[tuple[str, str]]:
    """One request (method, path) per method of a route (a mounted app gets a GET below it)."""
    path = route.path or ""
    if isinstance(route.original_route, Mount):
        return [("GET", f"{path}/x")]
    filled = "/".join("x" if part.startswith("{") else part for part in path.split("/"))
    return [(method, filled) for method in sorted(route.methods or {"GET"}) if method != "HEAD"]


# Every route of the app, included routers flattened: a route added later is guarded or listed in PUBLIC.
ROUTES = list(iter_route_contexts(create_app(copilot=Copilot(Settings(), embedder=HashingEmbedder())).routes))
GUARDED = [request for route in ROUTES if route.path not in PUBLIC for request in requests_for(route)]


@pytest.fixture
def keyed_app(make_knowledge: Callable[..., Path]) -> FastAPI:
    settings = Settings.load(knowledge_dir=make_knowledge(), api_keys=f"{KEY},{OTHER_KEY}")
    return create_app(copilot=Copilot(settings, embedder=HashingEmbedder()))


def test_the_guarded_routes_are_the_v1_routes() -> None:
    paths = {path for _, path in GUARDED}
    assert len(paths) == 16 and all(path.startswith("/v1/") for path in paths) and "/v1/stats" in paths


@pytest.mark.parametrize(("method", "path"), GUARDED, ids=[f"{method} {path}" for method, path in GUARDED])
def test_a_missing_or_wrong_key_is_a_401_and_the_right_one_passes(
    keyed_app: FastAPI, method: str, path: str
) -> None:
    with TestClient(keyed_app) as client:
        missing = client.request(method, path)
        wrong = client.request(
            method, path, params={"api_key": "k-wrong"}, headers={"Authorization": "Bearer k-wrong"}
        )
        right = client.request(
            method, path, params={"api_key": KEY}, headers={"Authorization": f"Bearer {KEY}"}
        )
    for response in (missing, wrong):
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"
    assert right.status_code != 401


def test_keys_are_compared_with_compare_digest_against_every_key(
    keyed_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given: bytes, key: bytes) -> bool:
        calls.append((given, key))
        return real(given, key)

    monkeypatch.setattr("api.security.hmac.compare_digest", spy)
    with TestClient(keyed_app) as client:
        assert client.get("/v1/flows", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        assert len(calls) == 2, "every key is compared, not only up to the first that matches"
        assert len({len(given) for given, _ in calls} | {len(key) for _, key in calls}) == 1
        monkeypatch.setattr("api.security.hmac.compare_digest", lambda given, key: False)
        assert client.get("/v1/flows", headers={"Authorization": f"Bearer {KEY}"}).status_code == 401


def call(base: str, method: str, path: str, body: object = None, key: str = KEY) -> tuple[int, bytes]:
    """A request through http.client, which logs nothing itself."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload


def every_kind_of_request(base: str) -> None:
    conversation = {"platform": "shopee", "messages": [{"role": "customer", "text": CUSTOMER_TEXT}]}
    status, draft = call(base, "POST", "/v1/drafts", conversation)
    assert status == 200, draft
    draft_id = json.loads(draft)["draft_id"]
    webhook = {"event": "message_created", "message_type": "incoming", "content": CUSTOMER_TEXT,
               "conversation": {"id": 4}, "account": {"id": 2}}
    expected = [
        (("POST", "/v1/drafts/stream", conversation), 200),  # the LLM fails this time: a degraded draft
        (("POST", "/v1/drafts", conversation), 200),
        (("POST", "/v1/triage", conversation), 200),
        (("POST", "/v1/guardrails/check", {"text": CUSTOMER_TEXT}), 200),
        (("GET", f"/v1/knowledge/search?q={CUSTOMER_TEXT.replace(' ', '+')}&platform=shopee", None), 200),
        (
            ("POST", "/v1/feedback", {"draft_id": draft_id, "action": "edited", "final_text": CUSTOMER_TEXT}),
            200,
        ),
        (("POST", f"/v1/integrations/chatwoot/webhook?api_key={KEY}", webhook), 200),
        (("POST", f"/v1/integrations/chatwoot/webhook?api_key=x{KEY}", webhook), 401),
        (("POST", "/v1/drafts", {**conversation, "platform": CUSTOMER_TEXT}), 400),
    ]
    for (method, path, body), status in expected:
        assert call(base, method, path, body)[0] == status, (method, path)
    assert call(base, "GET", "/v1/flows", key=f"{KEY}-wrong")[0] == 401


def test_keys_and_customer_text_never_reach_any_log(
    make_knowledge: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeOpenAIServer(default='{"intent": "cancel_order"}') as llm:
        llm.enqueue("Dạ em chào chị ạ.", Reply(status=500), Reply(status=500), Reply(status=500))
        knowledge = make_knowledge({"triage.yaml": TRIAGE_TABLE})
        settings = Settings.load(knowledge_dir=knowledge, api_keys=KEY, llm_base_url=llm.base_url,
                                 llm_model="fake", llm_api_key=LLM_KEY)
        app = create_app(copilot=Copilot(settings, embedder=HashingEmbedder()))
        with serving(app, log_config=None, log_level="debug") as base:
            every_kind_of_request(base)
    lines = [record.getMessage() for record in caplog.records]
    access = [
        line for line, record in zip(lines, caplog.records, strict=True) if record.name == "uvicorn.access"
    ]
    assert any("webhook?api_key=[redacted]" in line for line in access) and len(access) >= 10
    assert any("Request options" not in line and "chat/completions" in line for line in lines)
    for secret in (KEY, LLM_KEY, "Zebra-Quokka", "Zebra+Quokka"):
        assert not [line for line in lines if secret in line] and secret not in caplog.text, secret


@pytest.fixture
def copilot_serve(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> Iterator[tuple[str, Callable[[], str]]]:
    """`copilot serve` in a child process with API keys set; yields its URL and a function that stops it and
    returns what it wrote (stdout and stderr)."""
    port, logs = free_port(), tmp_path / "serve.log"
    with logs.open("wb") as log:
        process = subprocess.Popen(
            [Path(sys.executable).with_name("copilot"), "serve", "--port", str(port),
             "--knowledge", str(make_knowledge()), "--index", str(tmp_path / "serve-index")],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COPILOT_API_KEYS": KEY})
    base = f"http://127.0.0.1:{port}"

    def stop_and_read() -> str:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        return logs.read_text(errors="replace")

    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        assert process.poll() is None, logs.read_text(errors="replace")
        yield base, stop_and_read
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow
def test_the_webhook_key_and_search_text_stay_out_of_the_access_log_of_copilot_serve(
    copilot_serve: tuple[str, Callable[[], str]],
) -> None:
    base, stop_and_read = copilot_serve
    webhook = {"event": "conversation_created"}
    assert call(base, "POST", f"/v1/integrations/chatwoot/webhook?api_key={KEY}", webhook)[0] == 200
    assert call(base, "POST", f"/v1/integrations/chatwoot/webhook?other=1&api_key={KEY}x", webhook)[0] == 401
    assert call(base, "GET", "/v1/knowledge/search?q=Zebra-Quokka+4471&k=2")[0] == 200
    logged = stop_and_read()
    assert "POST /v1/integrations/chatwoot/webhook?api_key=[redacted] HTTP/1.1\" 200" in logged
    assert "webhook?other=1&api_key=[redacted]" in logged and "search?q=[redacted]&k=2" in logged
    assert KEY not in logged and "Zebra" not in logged
