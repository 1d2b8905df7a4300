"""Knowledge search, reindex and probes over HTTP, with errors in the contract's shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import document

from api.main import create_app
from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder


@pytest.fixture
def knowledge(make_knowledge: Callable[..., Path]) -> Path:
    return make_knowledge()


@pytest.fixture
def client(knowledge: Path, tmp_path: Path) -> Iterator[TestClient]:
    copilot = Copilot(
        Settings(knowledge_dir=knowledge, index_dir=tmp_path / "api-index"), embedder=HashingEmbedder()
    )
    with TestClient(create_app(copilot=copilot)) as test_client:
        yield test_client


def test_app_builds_its_index_at_start_and_is_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["documents"] == 3


def test_search_returns_cited_passages(client: TestClient) -> None:
    response = client.get(
        "/v1/knowledge/search", params={"q": "huy don da giao", "platform": "shopee", "k": 2}
    )
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["id"] == "shopee-cancel" and first["section"] == "Hủy đơn" and 0 < first["score"] <= 1


def test_unknown_platform_is_a_400_naming_it(client: TestClient) -> None:
    response = client.get("/v1/knowledge/search", params={"q": "x", "platform": "amazon"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "amazon" in response.json()["error"]["message"]


def test_missing_query_is_a_422_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/v1/knowledge/search", params={"k": 0})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "q" in message and "k" in message


def test_reindex_picks_up_a_new_document(
    client: TestClient, knowledge: Path, make_knowledge: Callable[..., Path]
) -> None:
    make_knowledge(
        {
            "faqs/voucher.md": document(
                "voucher-faq",
                "Voucher",
                "# V\n\n## Apply\nVoucher codes apply at checkout before payment.",
                kind="faq",
            )
        },
        root=knowledge,
    )
    report = client.post("/v1/knowledge/reindex").json()
    assert report["added"] == ["voucher-faq"] and report["unchanged"] == 3
    found = client.get("/v1/knowledge/search", params={"q": "voucher checkout"}).json()["results"]
    assert found[0]["id"] == "voucher-faq"


def test_reindex_with_a_broken_file_keeps_the_old_index_serving(
    client: TestClient, knowledge: Path, make_knowledge: Callable[..., Path]
) -> None:
    make_knowledge({"faqs/bad.md": "no front matter"}, root=knowledge)
    response = client.post("/v1/knowledge/reindex")
    assert response.status_code == 422 and "bad.md" in response.json()["error"]["message"]
    still = client.get("/v1/knowledge/search", params={"q": "popup theme"})
    assert still.status_code == 200 and still.json()["results"][0]["id"] == "popup-not-showing"
