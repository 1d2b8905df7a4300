"""A reindex is atomic: searches see the old index until it commits, a failed or killed one leaves the old
index serving and the next one finishes the job, and reindexes of one index folder run one at a time."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import document

from api.main import create_app
from copilot import Copilot, IndexNotReadyError, Settings
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.chunking import MarkdownChunker
from copilot.retrieval.embedders import HashingEmbedder
from copilot.retrieval.hybrid import MODES
from copilot.retrieval.index import EMBED_BATCH, KnowledgeIndex
from copilot.retrieval.lexical import BM25Index

WORKER = Path(__file__).with_name("index_worker.py")
# Each query names every old document too, so no two of their passages tie (ties come back in any order). The
# changed document's dense rank for the third query drops after the change, so a search that used its new
# vector before the commit would show.
QUERIES = [f"{query} (shopee, popup, tone)" for query in (
    "popup app embed theme", "khach muon huy don da giao van chuyen",
    "be friendly and never argue with the customer", "parcel courier route3 depot5")]
POPUP, PARCEL = QUERIES[0], QUERIES[3]
NEW_TONE = document("tone", "Tone of voice", "# Tone\n\n## Always\nStay calm, warm and never blame anyone.",
                    kind="playbook")


def generated_docs(count: int) -> dict[str, str | None]:
    """Enough FAQ documents that embedding them takes many batches."""
    return {
        f"zz-generated/parcel-{i:04d}.md": document(
            f"parcel-{i:04d}", f"Parcel question {i}",
            f"# Parcel {i}\n\n" + "\n\n".join(
                f"## Case {s}\nParcel {i} courier {s} route{i % 13} depot{(i * s) % 17} window{i % 5}."
                for s in range(3)),
            kind="faq")
        for i in range(count)
    }


def second_version(make_knowledge: Callable[..., Path], root: Path, count: int = 500) -> int:
    """Drop one document, change one, add `count`; the number of chunks an ingest has to embed for it."""
    make_knowledge({"faqs/popup.md": None, "playbooks/tone.md": NEW_TONE, **generated_docs(count)}, root=root)
    chunks = MarkdownChunker().split_all(KnowledgeBase.load(root).documents)
    return sum(1 for chunk in chunks if chunk.doc_id != "shopee-cancel")


def worker(*args: str | Path) -> str:
    done = subprocess.run([sys.executable, WORKER, *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def ingest_in_process(root: Path, index: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(worker("ingest", root, index).splitlines()[-1])
    return result


def search_in_process(root: Path, index: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(worker("search", root, index, *QUERIES))
    return result


@pytest.mark.slow  # kills a worker process mid-ingest and waits for it: about 20 s
def test_a_killed_reindex_leaves_the_old_index_serving_and_the_next_one_finishes_it(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root, index = make_knowledge(), tmp_path / "index"
    ingest_in_process(root, index)
    before = search_in_process(root, index)
    to_embed = second_version(make_knowledge, root)

    killed = subprocess.Popen([sys.executable, WORKER, "ingest", str(root), str(index)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert killed.stdout is not None and killed.stdout.readline().startswith("embedded ")
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL

    after_kill = search_in_process(root, index)
    stored_before_kill = after_kill["vectors"] - before["vectors"]
    assert 0 < stored_before_kill < to_embed, "the kill must land in the middle of the embedding"
    assert after_kill["results"] == before["results"]

    finished = ingest_in_process(root, index)
    assert finished["removed"] == ["popup-not-showing"] and finished["updated"] == ["tone"]
    assert len(finished["added"]) == 500 and finished["unchanged"] == 1
    assert finished["embedded_chunks"] == to_embed - stored_before_kill
    final = search_in_process(root, index)
    assert final["vectors"] == finished["chunks"]
    for mode in MODES:
        assert all(hit[0] != "popup-not-showing" for hit in final["results"][f"{mode}: {POPUP}"])
        assert any(hit[0].startswith("parcel-") for hit in final["results"][f"{mode}: {PARCEL}"])


class FailingEmbedder(HashingEmbedder):
    """Fails on its third call, like a model that runs out of memory halfway through an ingest."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(self.calls) == 2:
            raise RuntimeError("out of memory")
        return super().embed(texts)


def searches(index: KnowledgeIndex) -> dict[str, list[tuple[str, str, float]]]:
    return {f"{mode}: {query}": [(hit.chunk.doc_id, hit.chunk.section, hit.score)
                                 for hit in index.search(query, k=5, mode=mode)]
            for query in QUERIES for mode in MODES}


def fresh_index(root: Path, tmp_path: Path, embedder: HashingEmbedder | None = None) -> KnowledgeIndex:
    settings = Settings(knowledge_dir=root, index_dir=tmp_path / "index")
    return KnowledgeIndex(settings, embedder or HashingEmbedder())


def test_a_reindex_failing_halfway_leaves_the_old_index_serving(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    before = searches(fresh_index(root, tmp_path))
    to_embed = second_version(make_knowledge, root)
    with pytest.raises(RuntimeError, match="out of memory"):
        fresh_index(root, tmp_path, FailingEmbedder()).ingest(KnowledgeBase.load(root))
    assert searches(fresh_index(root, tmp_path)) == before
    report = fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    assert report.embedded_chunks == to_embed - 2 * EMBED_BATCH and report.removed == ["popup-not-showing"]


def test_a_reindex_failing_at_the_switch_leaves_the_old_index_serving(
    make_knowledge: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_knowledge()
    fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    before = searches(fresh_index(root, tmp_path))
    to_embed = second_version(make_knowledge, root, count=20)
    real_save = BM25Index.save

    def disk_full(self: BM25Index, folder: Path) -> None:
        real_save(self, folder)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BM25Index, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    assert searches(fresh_index(root, tmp_path)) == before
    monkeypatch.setattr(BM25Index, "save", real_save)
    index = fresh_index(root, tmp_path)
    report = index.ingest(KnowledgeBase.load(root))
    assert report.embedded_chunks == 0 and len(report.added) == 20 and to_embed > 0
    lexical_folders = sorted(p.name for p in (tmp_path / "index").iterdir() if "lexical" in p.name)
    assert lexical_folders == [index.lexical_dir.name]


def test_a_damaged_manifest_is_named_and_the_next_ingest_repairs_it(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    (tmp_path / "index" / "manifest.json").write_bytes(b"\x00garbage")
    with pytest.raises(IndexNotReadyError, match=r"manifest\.json: unreadable"):
        fresh_index(root, tmp_path).search("popup")
    report = fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
    assert report.embedded_chunks == 0
    assert fresh_index(root, tmp_path).search("popup app embed theme")[0].chunk.doc_id == "popup-not-showing"


def test_searches_in_threads_during_a_reindex_all_answer_from_the_old_or_the_new_index(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_knowledge()
    copilot = Copilot(Settings(knowledge_dir=root, index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    copilot.ingest()
    old = searches(copilot.index)
    second_version(make_knowledge, root)
    answers: list[dict[str, list[tuple[str, str, float]]]] = []
    reindexing = threading.Event()

    def search_until_done() -> int:
        count = 0
        while reindexing.is_set():
            answers.append(searches(copilot.index))
            count += 1
        return count

    reindexing.set()
    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(search_until_done) for _ in range(4)]
        copilot.ingest()
        reindexing.clear()
        counts = [future.result() for future in running]
    new = searches(copilot.index)
    assert sum(counts) >= 8
    for key in old:
        assert all(answer[key] in (old[key], new[key]) for answer in answers), key
    assert sum(answer == old for answer in answers) >= 4
    assert old[f"dense: {POPUP}"] != new[f"dense: {POPUP}"]


def test_an_ingest_waits_while_another_process_holds_the_index(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    root, index = make_knowledge(), tmp_path / "index"
    holder = subprocess.Popen([sys.executable, WORKER, "hold-lock", str(root), str(index), "2"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        report = fresh_index(root, tmp_path).ingest(KnowledgeBase.load(root))
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert waited > 1.0 and report.documents == 3


class SlowEmbedder(HashingEmbedder):
    """Records how many ingests embed at the same time, across every instance."""

    active = 0
    most = 0
    guard = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with SlowEmbedder.guard:
            SlowEmbedder.active += 1
            SlowEmbedder.most = max(SlowEmbedder.most, SlowEmbedder.active)
        try:
            time.sleep(0.02)
            return super().embed(texts)
        finally:
            with SlowEmbedder.guard:
                SlowEmbedder.active -= 1


@pytest.fixture
def two_servers(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> Iterator[tuple[Path, list[TestClient]]]:
    """Two API processes' worth of apps (separate Copilot objects) over one knowledge folder and index."""
    root = make_knowledge()
    settings = Settings(knowledge_dir=root, index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    clients = [TestClient(create_app(copilot=Copilot(settings, embedder=SlowEmbedder()))) for _ in range(2)]
    for client in clients:
        client.__enter__()
    yield root, clients
    for client in clients:
        client.__exit__(None, None, None)


def test_two_concurrent_reindex_requests_run_one_after_the_other(
    two_servers: tuple[Path, list[TestClient]], make_knowledge: Callable[..., Path]
) -> None:
    root, clients = two_servers
    make_knowledge(generated_docs(60), root=root)
    SlowEmbedder.most = 0
    with ThreadPoolExecutor(2) as pool:
        reports = [response.json() for response in
                   pool.map(lambda client: client.post("/v1/knowledge/reindex"), clients)]
    assert SlowEmbedder.most == 1
    first, second = sorted(reports, key=lambda report: -report["embedded_chunks"])
    assert len(first["added"]) == 60 and first["embedded_chunks"] == 180
    assert second["added"] == [] and second["embedded_chunks"] == 0 and second["unchanged"] == 63
    for client in clients:
        hits = client.get("/v1/knowledge/search", params={"q": PARCEL}).json()["results"]
        assert any(hit["id"].startswith("parcel-") for hit in hits)
