"""Scale-out: API replicas, each with its own index folder, share one `chroma run` server. The first
replica to start embeds the knowledge base; the others only build their BM25 index, and all answer alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from helpers import MINI_FLOW, document
from helpers.servers import serving

from api.main import create_app
from copilot import Copilot, Settings
from copilot.retrieval.index import collection_name
from copilot.retrieval.vector_store import ChromaVectorStore, chroma_client

pytestmark = pytest.mark.integration

DRAFT = {"messages": [{"role": "customer", "text": "The discount popup is not showing on my store"}],
         "step": "troubleshoot"}


def test_replicas_share_the_vectors_of_one_chroma_server_and_answer_alike(
    chroma_server: str, make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    knowledge = make_knowledge({"faqs/popup.md": document(
        "popup-not-showing", "Popup not showing on the store",
        "# Popup\n\n## Fix\nEnable the app embed and clear the cache.\n\n## Reply\n"
        "- Please turn on the app embed in your theme editor, then clear the cache and reload your store.",
        kind="faq", platforms="[livechat]", language="[en]")})
    flow = knowledge / "flows" / "livechat.yaml"  # drafts at the troubleshoot step cite the knowledge base
    goal = "    goal: Solve the problem.\n"
    grounded = MINI_FLOW.replace(goal, goal + "    knowledge: true\n")
    flow.write_text(grounded, encoding="utf-8")

    def replica(name: str) -> Copilot:
        return Copilot(Settings(knowledge_dir=knowledge, index_dir=tmp_path / name / "index",
                                data_dir=tmp_path / name / "data", chroma_url=chroma_server))

    first, second = replica("first"), replica("second")
    query = {"q": "popup not showing", "mode": "dense"}
    with serving(create_app(copilot=first)) as first_url, serving(create_app(copilot=second)) as second_url:
        urls = (first_url, second_url)
        reindexed = [httpx.post(f"{url}/v1/knowledge/reindex", timeout=60).json() for url in urls]
        drafts = [httpx.post(f"{url}/v1/drafts", json=DRAFT, timeout=60).json() for url in urls]
        searches = [httpx.get(f"{url}/v1/knowledge/search", params=query, timeout=60).json() for url in urls]
    store = ChromaVectorStore(chroma_client(tmp_path, chroma_server),
                              collection_name(first.index.embedder.name))
    chunks = reindexed[0]["chunks"]
    assert store.count() == chunks > 0, (
        "one copy of each chunk in the server, whatever the number of replicas"
    )
    assert [report["embedded_chunks"] for report in reindexed] == [0, 0], (
        "both started on vectors already there"
    )
    assert not (tmp_path / "first" / "index" / "chroma.sqlite3").exists(), (
        "no embedded store beside the server"
    )
    assert searches[0]["results"] and searches[0] == searches[1]
    assert drafts[0]["draft"] == drafts[1]["draft"] and drafts[0]["citations"] == drafts[1]["citations"]
    assert drafts[0]["draft"] and drafts[0]["citations"], drafts[0]
