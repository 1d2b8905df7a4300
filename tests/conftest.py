"""Shared fixtures. Every test runs with the network closed: only loopback and Unix sockets are allowed."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
SHIPPED_KNOWLEDGE = REPO / "knowledge"


class NetworkBlockedError(RuntimeError):
    """Raised when code under test tries to reach a host that is not this machine."""


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise NetworkBlockedError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise NetworkBlockedError(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in (None, "localhost") and not _is_local((host, 0)):
        raise NetworkBlockedError(f"test tried to resolve a network host: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Make any connection to a non-loopback address fail loudly for the whole run."""
    patches = {"connect": _guarded_connect, "connect_ex": _guarded_connect_ex}
    for name, function in patches.items():
        setattr(socket.socket, name, function)
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every path the copilot writes at a temporary folder."""
    monkeypatch.setenv("COPILOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COPILOT_CHROMA_URL", raising=False)
    monkeypatch.delenv("COPILOT_KNOWLEDGE_DIR", raising=False)


MINI_FLOW = """\
id: livechat
title: Live chat
steps:
  - id: greeting
    title: Greeting
    goal: Greet the customer.
    next: [troubleshoot]
    templates: {en: ["Hi {customer_name}"], vi: ["Chào {customer_name}"]}
  - id: troubleshoot
    title: Troubleshoot
    goal: Solve the problem.
    next: [farewell]
  - id: farewell
    title: Farewell
    goal: Thank and ask for a review.
    review_ask: true
"""

MINI_PLATFORMS = """\
platforms:
  livechat: {title: Live chat}
  shopee: {title: Shopee, marketplace: true}
"""


def document(doc_id: str, title: str, body: str, **meta: Any) -> str:
    """Markdown text of a knowledge document with front matter."""
    lines = ["---", f"id: {doc_id}", f'title: "{title}"', f"kind: {meta.pop('kind', 'policy')}"]
    lines += [f"{key}: {value}" for key, value in meta.items()]
    return "\n".join([*lines, "---", body, ""])


MINI_DOCS = {
    "policies/shopee-cancel.md": document(
        "shopee-cancel", "Shopee: hủy đơn hàng",
        "# Shopee cancel\n\n## Hủy đơn\nNgười mua tự gửi yêu cầu hủy đơn trên ứng dụng. "
        "Đơn đã giao cho đơn vị vận chuyển thì không thể hủy.\n\n## Don't\nNever ask the buyer to cancel.",
        platforms="[shopee]", steps="[troubleshoot]", language="[vi, en]",
    ),
    "faqs/popup.md": document(
        "popup-not-showing", "Popup not showing on the store",
        "# Popup\n\n## Common causes\nThe app embed is disabled in the theme editor, or display rules exclude "
        "the page.\n\n## Fix\nEnable the app embed and clear the cache.",
        kind="faq", platforms="[livechat]", language="[en]",
    ),
    "playbooks/tone.md": document(
        "tone", "Tone of voice", "# Tone\n\n## Always\nBe friendly and never argue with the customer.",
        kind="playbook",
    ),
}


@pytest.fixture
def make_knowledge(tmp_path: Path) -> Callable[..., Path]:
    """Write a small knowledge folder; pass `docs={path: text or None}` to add, replace or drop files."""

    def make(docs: dict[str, str | None] | None = None, root: Path | None = None) -> Path:
        root = root or tmp_path / "knowledge"
        (root / "flows").mkdir(parents=True, exist_ok=True)
        (root / "flows" / "livechat.yaml").write_text(MINI_FLOW, encoding="utf-8")
        (root / "platforms.yaml").write_text(MINI_PLATFORMS, encoding="utf-8")
        shutil.copytree(SHIPPED_KNOWLEDGE / "rules", root / "rules", dirs_exist_ok=True)
        for relative, text in {**MINI_DOCS, **(docs or {})}.items():
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
    """One real PostgreSQL server for the whole session (`tests/postgres.py`); tests make their own databases."""
    from postgres import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database, once on SQLite and once on the PostgreSQL server: the store's contract tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    from postgres import create_database

    return create_database(request.getfixturevalue("postgres"), f"test_{os.getpid()}_{id(request)}")
