"""Shared fixtures. Every test runs with the network closed: only loopback and Unix sockets are allowed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    MINI_DOCS,
    MINI_FLOW,
    MINI_PLATFORMS,
    MINI_RULES,
    MINI_SECTIONS,
    SHIPPED_KNOWLEDGE,
    network,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Make any connection to a non-loopback address fail loudly for the whole run."""
    network.block()
    yield
    network.unblock()


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every path the copilot writes at a temporary folder."""
    monkeypatch.setenv("COPILOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COPILOT_CHROMA_URL", raising=False)
    monkeypatch.delenv("COPILOT_KNOWLEDGE_DIR", raising=False)


@pytest.fixture
def make_knowledge(tmp_path: Path) -> Callable[..., Path]:
    """Write a small knowledge folder in the tests' own words, rule packs included (`helpers.MINI_RULES`, not
    the shipped ones); pass `docs={path: text or None}` to add, replace or drop files."""

    def make(docs: dict[str, str | None] | None = None, root: Path | None = None) -> Path:
        root = root or tmp_path / "knowledge"
        (root / "flows").mkdir(parents=True, exist_ok=True)
        (root / "flows" / "livechat.yaml").write_text(MINI_FLOW, encoding="utf-8")
        (root / "platforms.yaml").write_text(MINI_PLATFORMS, encoding="utf-8")
        (root / "sections.yaml").write_text(MINI_SECTIONS, encoding="utf-8")
        for relative, text in {**MINI_RULES, **MINI_DOCS, **(docs or {})}.items():
            path = root / relative
            if text is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return make


@pytest.fixture(scope="session")
def shipped_copilot(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The shipped knowledge base indexed once with the real packaged model (shared, read-only)."""
    from copilot import Copilot, Settings

    index_dir = tmp_path_factory.mktemp("shipped-index")
    copilot = Copilot(Settings(knowledge_dir=SHIPPED_KNOWLEDGE, index_dir=index_dir))
    copilot.ingest()
    return copilot


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """One real PostgreSQL server for the whole session (`tests/postgres.py`); tests make their own
    databases."""
    from helpers.postgres import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database, once on SQLite and once on the PostgreSQL server: the store's contract
    tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    from helpers.postgres import create_database

    return create_database(request.getfixturevalue("postgres"), f"test_{os.getpid()}_{id(request)}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the shipped copilot (the real model, the shipped knowledge) is slow; one that uses the
    PostgreSQL server is an integration test: `make check` runs neither, `make test` runs both."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "shipped_copilot" in fixtures:
            item.add_marker(pytest.mark.slow)
        if "postgres" in fixtures:
            item.add_marker(pytest.mark.integration)
