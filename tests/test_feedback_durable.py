"""The feedback store under concurrent writers (processes, threads, HTTP clients of a real server) loses
nothing, and a damaged or locked database gives a clear error naming the file without touching its rows."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from feedback_worker import draft_pair, write
from helpers.servers import serving
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot, Settings
from copilot.cli import app as cli
from copilot.feedback import FeedbackRequest, FeedbackStore, FeedbackStoreError
from copilot.retrieval.embedders import HashingEmbedder

WORKER = Path(__file__).with_name("feedback_worker.py")
PROCESSES, PROCESS_DRAFTS = 4, 100  # 4 processes x 200 writes
THREADS, THREAD_DRAFTS = 4, 50  # 4 threads x 100 writes
CLIENTS, CLIENT_DRAFTS = 2, 40  # 2 HTTP clients x 80 writes
CONVERSATION = {"platform": "shopee",
                "messages": [{"role": "customer", "text": "shop oi don cua em bao gio giao"}]}


def make_app(knowledge: Path, tmp_path: Path, feedback_timeout: float = 10.0) -> FastAPI:
    config = Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index", data_dir=tmp_path / "data",
                      feedback_timeout=feedback_timeout)
    return create_app(copilot=Copilot(config, embedder=HashingEmbedder()))


def rate_over_http(base: str, drafts: int) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for number in range(drafts):
            draft = client.post("/v1/drafts", json=CONVERSATION)
            assert draft.status_code == 200, draft.text
            verdict = {"draft_id": draft.json()["draft_id"],
                       "action": "accepted" if number % 2 else "rejected"}
            assert client.post("/v1/feedback", json=verdict).status_code == 200


def counts(database: Path) -> tuple[int, int, int]:
    with sqlite3.connect(database) as db:
        drafts = db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]
        feedback, rated = db.execute("SELECT COUNT(*), COUNT(DISTINCT draft_id) FROM feedback").fetchone()
    return int(drafts), int(feedback), int(rated)


@pytest.mark.slow
def test_writers_in_processes_threads_and_http_clients_at_once_lose_nothing(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    database = tmp_path / "data" / "feedback.sqlite3"
    with serving(make_app(make_knowledge(), tmp_path)) as base:
        processes = [subprocess.Popen([sys.executable, WORKER, "write", str(database), f"p{n}",
                                       str(PROCESS_DRAFTS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
                     for n in range(PROCESSES)]
        store = FeedbackStore(database)
        with ThreadPoolExecutor(THREADS + CLIENTS) as pool:
            jobs = [pool.submit(write, store, f"t{n}", THREAD_DRAFTS) for n in range(THREADS)]
            jobs += [pool.submit(rate_over_http, base, CLIENT_DRAFTS) for _ in range(CLIENTS)]
            for job in jobs:
                job.result()
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0 and out.strip() == "done", err[-2000:]
    expected = PROCESSES * PROCESS_DRAFTS + THREADS * THREAD_DRAFTS + CLIENTS * CLIENT_DRAFTS
    assert counts(database) == (expected, expected, expected)


def stored_rows(database: Path, drafts: int = 3) -> None:
    """A few rated drafts, moved from the write-ahead log into the database file itself."""
    store = FeedbackStore(database)
    for number in range(drafts):
        store.record_draft(*draft_pair(f"kept-{number}"))
        store.record_feedback(FeedbackRequest(draft_id=f"kept-{number}", action="accepted"))
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def damage(database: Path, how: str) -> None:
    """Garbage over the whole file, or over everything after its header page."""
    garbage = random.Random(7).randbytes(16_384)
    if how == "garbage file":
        database.write_bytes(garbage)
    else:
        content = database.read_bytes()
        database.write_bytes(content[:4096] + garbage[: max(len(content) - 4096, 4096)])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["garbage file", "garbage pages"])
def test_a_damaged_database_is_named_over_http_and_left_as_it_is(
    make_knowledge: Callable[..., Path], tmp_path: Path, how: str
) -> None:
    database = tmp_path / "data" / "feedback.sqlite3"
    stored_rows(database)
    damage(database, how)
    before = digest(database)
    with TestClient(make_app(make_knowledge(), tmp_path)) as client:
        responses = [client.get("/v1/stats"),
                     client.post("/v1/feedback", json={"draft_id": "kept-0", "action": "rejected"})]
        drafted = client.post("/v1/drafts",
                              json={"messages": [{"role": "customer", "text": "hi, popup gone"}]})
    assert drafted.status_code == 200 and drafted.json()["draft"], (
        "a broken feedback store must not cost the draft"
    )
    for response in responses:
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "feedback_store_unavailable"
        assert str(database) in error["message"] and "damaged" in error["message"]
    assert digest(database) == before


@pytest.mark.slow
def test_a_damaged_database_is_one_line_from_the_command_line(
    make_knowledge: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "data" / "feedback.sqlite3"
    stored_rows(database)
    damage(database, "garbage file")
    before = digest(database)
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["eval", "export-feedback", "--out", str(tmp_path / "out.jsonl"),
                                      "--knowledge", str(make_knowledge()),
                                      "--index", str(tmp_path / "index")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(database) in lines[0] and "damaged" in lines[0], result.stderr
    assert digest(database) == before


@contextmanager
def locked(database: Path, seconds: float) -> Iterator[None]:
    """Another process holding an EXCLUSIVE lock on the database."""
    holder = subprocess.Popen([sys.executable, WORKER, "lock", str(database), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_locked_database_is_named_after_the_busy_timeout_and_keeps_its_rows(tmp_path: Path) -> None:
    database = tmp_path / "data" / "feedback.sqlite3"
    stored_rows(database)
    store = FeedbackStore(database, busy_timeout=0.3)
    with locked(database, 20):
        started = time.monotonic()
        with pytest.raises(FeedbackStoreError, match="is locked by another program") as error:
            store.record_feedback(FeedbackRequest(draft_id="kept-1", action="edited", final_text="x"))
        waited = time.monotonic() - started
    assert str(database) in str(error.value) and 0.3 <= waited < 5
    assert counts(database) == (3, 3, 3)
    store.record_feedback(FeedbackRequest(draft_id="kept-1", action="edited", final_text="x"))
    assert counts(database) == (3, 4, 3)


def test_a_locked_database_is_a_503_over_http_and_keeps_its_rows(
    make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    database = tmp_path / "data" / "feedback.sqlite3"
    stored_rows(database)
    app = make_app(make_knowledge(), tmp_path, feedback_timeout=0.3)
    with TestClient(app) as client, locked(database, 20):
        feedback = client.post("/v1/feedback", json={"draft_id": "kept-2", "action": "rejected"})
        drafted = client.post("/v1/drafts", json=CONVERSATION)
        stats = client.get("/v1/stats")
    assert drafted.status_code == 200 and drafted.json()["draft"], (
        "a locked feedback store must not cost the draft"
    )
    assert feedback.status_code == 503, feedback.text
    error = feedback.json()["error"]
    assert error["code"] == "feedback_store_unavailable"
    assert str(database) in error["message"] and "locked" in error["message"]
    assert stats.status_code == 200 and stats.json()["total"]["feedback"] == 3
    assert counts(database) == (3, 3, 3)
