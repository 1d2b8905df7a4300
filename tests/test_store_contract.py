"""The store's contract, run on SQLite and on a real PostgreSQL server: drafts are kept once by id, the
latest verdict counts, statistics are computed in the database, and replicas sharing one database count
every draft once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from feedback_worker import draft_pair
from sqlalchemy import func, inspect, select

from api.main import create_app
from copilot import Copilot, Settings
from copilot.errors import InvalidRequestError
from copilot.feedback import FeedbackRequest, FeedbackStore
from copilot.retrieval.embedders import HashingEmbedder
from copilot.store import Database, StoreError
from copilot.store.schema import drafts, feedback


def test_a_draft_recorded_twice_is_one_draft_and_its_latest_verdict_counts(database_url: str) -> None:
    store = FeedbackStore(Database(database_url))
    for number in range(4):
        store.record_draft(*draft_pair(f"d{number}"))
    store.record_draft(*draft_pair("d0"))  # a retry, or a second replica recording the same draft
    store.record_feedback(FeedbackRequest(draft_id="d0", action="rejected"))
    store.record_feedback(FeedbackRequest(draft_id="d0", action="accepted"))
    store.record_feedback(FeedbackRequest(draft_id="d1", action="edited",
                                          final_text="Dạ em chào chị Lan ạ."))
    store.record_feedback(FeedbackRequest(draft_id="d2", action="rejected"))
    stats = store.stats()
    assert stats["total"] == {"drafts": 4, "feedback": 3, "accepted_rate": 0.333, "edited_rate": 0.333,
                              "rejected_rate": 0.333}
    assert stats["by_step"]["greeting"]["drafts"] == 4 and list(stats["by_platform"]) == ["shopee"]
    assert [d["draft_id"] for d in store.rated_drafts()] == ["d0", "d1"]
    with store.database.reading() as db:
        similarity = db.execute(select(feedback.c.similarity).where(feedback.c.draft_id == "d1")).scalar()
    assert similarity is not None and 0.5 < similarity < 1


def test_feedback_on_an_unknown_draft_is_refused_and_stores_nothing(database_url: str) -> None:
    store = FeedbackStore(Database(database_url))
    with pytest.raises(InvalidRequestError, match="unknown draft_id 'nope'"):
        store.record_feedback(FeedbackRequest(draft_id="nope", action="accepted"))
    with store.database.reading() as db:
        assert db.execute(select(func.count()).select_from(feedback)).scalar() == 0


def test_an_empty_store_has_zero_rates(database_url: str) -> None:
    assert FeedbackStore(Database(database_url)).stats()["total"] == {
        "drafts": 0, "feedback": 0, "accepted_rate": 0.0, "edited_rate": 0.0, "rejected_rate": 0.0}


def test_replicas_opening_a_new_database_at_once_migrate_it_once(database_url: str) -> None:
    opened: list[Database] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(Database(database_url))
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(opened) == 4
    tables = set(inspect(opened[0].engine).get_table_names())
    expected = {"drafts", "feedback", "conversations", "messages", "message_violations", "alembic_version"}
    assert expected <= tables


def app_on(url: str, make_knowledge: Callable[..., Path], tmp_path: Path, name: str) -> TestClient:
    config = Settings(knowledge_dir=make_knowledge(), index_dir=tmp_path / name / "index",
                      data_dir=tmp_path / name / "data", database_url=url)
    return TestClient(create_app(copilot=Copilot(config, embedder=HashingEmbedder())))


@pytest.mark.integration
def test_two_replicas_on_one_postgresql_count_every_draft_once(
    postgres: str, make_knowledge: Callable[..., Path], tmp_path: Path
) -> None:
    from helpers.postgres import create_database

    url = create_database(postgres, "replicas")
    conversation = {"platform": "shopee",
                    "messages": [{"role": "customer", "text": "shop oi don em bao gio giao"}]}
    with (app_on(url, make_knowledge, tmp_path, "a") as first,
          app_on(url, make_knowledge, tmp_path, "b") as second):
        ids = []
        for number in range(10):
            replica = (first, second)[number % 2]
            response = replica.post("/v1/drafts", json=conversation)
            assert response.status_code == 200, response.text
            ids.append(response.json()["draft_id"])
        for number, draft_id in enumerate(ids):  # the verdict reaches the other replica
            other = (second, first)[number % 2]
            action = "accepted" if number < 6 else "rejected"
            verdict = {"draft_id": draft_id, "action": action}
            assert other.post("/v1/feedback", json=verdict).status_code == 200
        stats = [replica.get("/v1/stats").json()["total"] for replica in (first, second)]
    assert stats[0] == stats[1] == {"drafts": 10, "feedback": 10, "accepted_rate": 0.6, "edited_rate": 0.0,
                                    "rejected_rate": 0.4}
    for name in ("a", "b"):
        assert not (tmp_path / name / "data" / "feedback.sqlite3").exists(), (
            "a replica wrote to its own SQLite"
        )


def test_a_store_written_before_the_migrations_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript("""
            CREATE TABLE drafts (draft_id TEXT PRIMARY KEY, created_at REAL NOT NULL, platform TEXT NOT NULL,
                flow TEXT NOT NULL, step TEXT NOT NULL, language TEXT NOT NULL, model TEXT NOT NULL,
                draft TEXT NOT NULL, request TEXT NOT NULL);
            CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, draft_id TEXT NOT NULL REFERENCES
                drafts(draft_id), action TEXT NOT NULL CHECK (action IN ('accepted', 'edited', 'rejected')),
                final_text TEXT, created_at REAL NOT NULL);
            INSERT INTO drafts VALUES
                ('old', 1.0, 'shopee', 'livechat', 'greeting', 'vi', 'local', 'Dạ', '{}');
            INSERT INTO feedback (draft_id, action, final_text, created_at)
                VALUES ('old', 'accepted', NULL, 2.0);
        """)
    store = FeedbackStore(path)
    assert store.stats()["total"]["drafts"] == 1 and store.stats()["total"]["accepted_rate"] == 1.0
    store.record_draft(*draft_pair("new"))
    with store.database.reading() as db:
        assert db.execute(select(func.count()).select_from(drafts)).scalar() == 2


def test_a_bad_or_unreachable_database_url_is_named_without_its_password() -> None:
    with pytest.raises(StoreError, match="only postgresql:// and sqlite:///path"):
        Database("mysql://root:hunter2@127.0.0.1/x")
    with pytest.raises(StoreError, match="cannot connect") as error:
        Database("postgresql://copilot:hunter2@127.0.0.1:9/copilot", busy_timeout=1)
    assert "hunter2" not in str(error.value) and "127.0.0.1:9/copilot" in str(error.value)
