"""Conversations with time come in from an export (`copilot import`) or from the Chatwoot webhook: a bad line
is named and nothing is stored, the same content is never stored twice, on SQLite and on PostgreSQL. The week
and the knowledge folder are `helpers.qa_kb`'s, read with the hashing embedder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.qa_kb import WEEK, cli_with_hashing, qa_copilot, qa_knowledge, write_jsonl
from helpers.review import counts
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot
from copilot.cli import app as cli
from copilot.errors import DatasetError


@pytest.fixture
def knowledge(make_knowledge: Callable[..., Path]) -> Path:
    return qa_knowledge(make_knowledge)


@pytest.fixture
def week_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "week.jsonl", WEEK)


def test_importing_the_same_file_twice_stores_nothing_twice(
    knowledge: Path, week_file: Path, tmp_path: Path, database_url: str
) -> None:
    copilot = qa_copilot(knowledge, tmp_path, database_url)
    first = copilot.importer.import_file(week_file)
    stored = counts(copilot)
    again = copilot.importer.import_file(week_file)
    assert (first.added, first.replaced, first.unchanged) == (8, 0, 0)
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 8)
    assert counts(copilot) == stored == (8, sum(len(c["messages"]) for c in WEEK), 2)


def test_a_conversation_that_went_on_replaces_its_earlier_export(
    knowledge: Path, week_file: Path, tmp_path: Path
) -> None:
    copilot = qa_copilot(knowledge, tmp_path)
    copilot.importer.import_file(week_file)
    before = counts(copilot)
    unanswered = copilot.importer.store.conversation("import", "w4")
    assert unanswered is not None and unanswered["first_responder"] is None and unanswered["in_sla"] is None
    w4 = copy.deepcopy(WEEK[3])
    w4["messages"].append({"role": "agent", "author": "khoa", "at": "2026-03-04T11:12:00+07:00",
                           "text": "Dạ anh đợi lâu quá, mã này em sửa rồi ạ."})
    later = write_jsonl(tmp_path / "later.jsonl", [*WEEK[:3], w4, *WEEK[4:]])
    report = copilot.importer.import_file(later)
    assert (report.added, report.replaced, report.unchanged) == (0, 1, 7)
    row = copilot.importer.store.conversation("import", "w4")
    assert row is not None and row["first_responder"] == "khoa" and row["in_sla"] is True  # 12 of 15 minutes
    assert counts(copilot) == (before[0], before[1] + 1, before[2])


@pytest.fixture
def stored(knowledge: Path, week_file: Path, tmp_path: Path) -> Copilot:
    """The week imported: the bad files below must leave it as it is."""
    copilot = qa_copilot(knowledge, tmp_path / "stored")
    copilot.importer.import_file(week_file)
    return copilot


@pytest.mark.parametrize(
    ("line", "where"),
    [
        (
            '{"id": "x", "platform": "shopee", "messages": [{"role": "customer", "text": "psst"}]}',
            "field 'messages'",
        ),
        (
            '{"id": "x", "platform": "amazon", "messages": '
            '[{"role": "customer", "text": "psst", "at": "2026-11-16T09:00"}]}',
            "field 'platform': unknown platform 'amazon'",
        ),
        (
            '{"id": "x", "messages": [{"role": "boss", "text": "psst", "at": "2026-11-16T09:00"}]}',
            "field 'messages.0.role'",
        ),
        (
            '{"id": "x", "messages": [{"role": "customer", "text": "psst", "at": "yesterday"}]}',
            "field 'messages.0.at'",
        ),
        (
            '{"id": "w1", "messages": [{"role": "customer", "text": "psst", "at": "2026-11-16T09:00"}]}',
            "field 'id': conversation 'w1' is also on line 1",
        ),
        ('{"id": "x", "messages": [', "not valid JSON"),
    ],
)
def test_a_malformed_line_is_named_and_nothing_is_stored(stored: Copilot, week_file: Path, tmp_path: Path,
                                                         line: str, where: str) -> None:
    copilot = stored
    before = counts(copilot)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        week_file.read_text(encoding="utf-8").splitlines()[0] + "\n\n" + line + "\n", encoding="utf-8"
    )
    with pytest.raises(DatasetError) as error:
        copilot.importer.import_file(bad)
    assert str(error.value).startswith(f"{bad}:3: ") and where in str(error.value), str(error.value)
    assert counts(copilot) == before


def test_the_command_line_names_the_bad_line_and_exits_2(
    knowledge: Path, week_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_with_hashing(monkeypatch)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "messages": [{"role": "customer", "text": "psst"}]}\n', encoding="utf-8")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    options = ["--knowledge", str(knowledge), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(cli, ["import", str(bad), *options])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{bad}:1: field 'messages'" in lines[0] and "`at`" in lines[0], result.stderr
    good = CliRunner().invoke(cli, ["import", str(week_file), *options])
    assert good.exit_code == 0 and "8 added, 0 replaced, 0 unchanged" in good.stdout, good.output
    again = CliRunner().invoke(cli, ["import", str(week_file), *options])
    assert again.exit_code == 0 and "0 added, 0 replaced, 8 unchanged" in again.stdout, again.output


def chatwoot(event: str = "message_created", **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "event": event,
        "id": 501,
        "message_type": "incoming",
        "content": "Cho hỏi kiện hàng 5120 bao giờ tới vậy?",
        "created_at": "2026-11-18T02:00:00.000Z",
        "private": False,
        "sender": {"id": 9, "name": "Lan", "type": "contact"},
        "conversation": {"id": 42, "channel": "Channel::WebWidget", "status": "open"},
        "account": {"id": 7},
    }
    return {**body, **fields}


def test_chatwoot_messages_are_stored_as_they_arrive_once_each(knowledge: Path, tmp_path: Path) -> None:
    copilot = qa_copilot(knowledge, tmp_path, chatwoot_url="https://desk.example.com")
    hook = "/v1/integrations/chatwoot/webhook"
    minh = {"id": 3, "name": "Minh", "type": "user"}
    with TestClient(create_app(copilot=copilot)) as client:
        assert client.post(hook, json=chatwoot()).json()["stored"] is True
        assert client.post(hook, json=chatwoot()).json()["stored"] is False  # Chatwoot delivered it again
        note = chatwoot(id=502, message_type="outgoing", private=True, content="check the shelf", sender=minh)
        assert client.post(hook, json=note).json() == {"ignored": "not a message from the customer",
                                                       "stored": False}
        bot = chatwoot(id=503, message_type="outgoing", content="Dạ em đã chuyển cho nhân viên ạ.",
                       created_at="2026-11-18T02:00:05.000Z",
                       sender={"id": 1, "name": "Copilot", "type": "agent_bot"})
        reply = chatwoot(id=504, message_type=1, content="Dạ Minh chào chị Lan, để Minh xem kiện này nhé.",
                         created_at="2026-11-18 02:04:00 UTC", sender=minh)
        for body in (bot, reply):
            assert client.post(hook, json=body).json()["stored"] is True
        resolved = {"event": "conversation_status_changed", "id": 42, "status": "resolved",
                    "timestamp": 1795485000, "account": {"id": 7}}
        assert client.post(hook, json=resolved).json()["stored"] is True
    store = copilot.importer.store
    rows = store.stored_messages("chatwoot", "7:42")
    assert [(r["role"], r["author"]) for r in rows] == [("customer", None), ("agent", "bot"),
                                                        ("agent", "Minh")]
    conversation = store.conversation("chatwoot", "7:42")
    assert conversation is not None and conversation["status"] == "resolved"
    assert conversation["platform"] == "livechat"  # the folder's platform for Channel::WebWidget
    assert conversation["first_responder"] == "Minh" and conversation["first_response_seconds"] == 240
    assert conversation["link"] == "https://desk.example.com/app/accounts/7/conversations/42"


@pytest.mark.integration
def test_two_replicas_storing_messages_of_one_conversation_at_once_keep_every_message(
    knowledge: Path, tmp_path: Path, postgres: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from helpers.postgres import create_database

    from copilot.review.conversations import IncomingMessage

    url = create_database(postgres, "helpdesk_at_once")
    replicas = [qa_copilot(knowledge, tmp_path / name, url) for name in ("a", "b")]
    importers = [replica.importer for replica in replicas]
    arriving = [
        IncomingMessage(
            conversation="7:99",
            external_id=str(n),
            role="agent" if n % 2 else "customer",
            text=f"message {n} about order 7712",
            at=datetime(2026, 11, 18, 2, n, tzinfo=UTC),
            author="minh" if n % 2 else None,
            platform="livechat",
        )
        for n in range(12)
    ]
    with ThreadPoolExecutor(4) as pool:
        stored = list(pool.map(lambda n: importers[n % 2].record_message(arriving[n]), range(12)))
    assert all(stored)
    rows = importers[0].store.stored_messages("chatwoot", "7:99")
    assert sorted(int(row["external_id"]) for row in rows) == list(range(12))
    conversation = importers[1].store.conversation("chatwoot", "7:99")
    assert conversation is not None and conversation["messages"] == 12
