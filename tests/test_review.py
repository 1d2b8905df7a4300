"""The weekly review, the code: a week computed by hand (`helpers.qa_kb.WEEK`, its hours, service levels,
reasons and rules the fixture's own, read with the hashing embedder) on SQLite and on PostgreSQL: the numbers,
the lists with their links, the filters and pages, the API, and the shared page. What the shipped review.yaml
makes of the repository's sample week is checked in `test_shipped_review.py`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from feedback_worker import draft_pair
from helpers.qa_kb import (
    REVIEW_TRIAGE,
    REVIEW_YAML,
    UNTIL,
    WEEK,
    cli_with_hashing,
    qa_copilot,
    qa_knowledge,
    write_jsonl,
)
from typer.testing import CliRunner

from api.main import create_app
from copilot import Copilot
from copilot.cli import app as cli
from copilot.errors import InvalidRequestError
from copilot.feedback import FeedbackRequest
from copilot.review.period import Period
from copilot.review.report import ReviewQuery, WeeklyReview

GAP = "Shop có nhận khắc tên công ty lên ly không ạ?"  # w7's question: the table has no need for it


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., Copilot]:
    """A copilot over the small knowledge base with the week imported; `review` replaces its review.yaml."""

    def make(review: str = REVIEW_YAML, database_url: str = "") -> Copilot:
        knowledge = qa_knowledge(make_knowledge, {"review.yaml": review})
        copilot = qa_copilot(knowledge, tmp_path, database_url)
        copilot.importer.import_file(write_jsonl(tmp_path / "week.jsonl", WEEK))
        return copilot

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def week(request: pytest.FixtureRequest, build: Callable[..., Copilot]) -> Copilot:
    """The hand-computed week, imported on each backend."""
    url = ""
    if request.param == "postgresql":
        from helpers.postgres import create_database

        url = create_database(request.getfixturevalue("postgres"), "qa_kb_week")
    copilot = build(database_url=url)
    request.addfinalizer(copilot.database.dispose)
    return copilot


def test_the_teams_service_numbers(week: Copilot) -> None:
    review = week.weekly_review("7d", UNTIL)
    team = review["team"]
    assert review["period"]["days"][0] == "2026-03-02" and review["target"] == 0.7
    assert (team["conversations"], team["answered_in_time"], team["needed_answer"]) == (8, 5, 8)
    assert team["response_rate"] == 0.625 and team["days_at_target"] == 4
    assert [d["at_target"] for d in review["daily"]] == [False, True, False, True, True, False, True]
    assert [d["response_rate"] for d in review["daily"]] == [0.5, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert team["first_response_minutes"] == {"p50": 3.0, "p90": 210.0}
    assert team["last_message_ours"] == 0.75 and team["unanswered"] == 1
    assert team["waiting_past_service_level"] == 2 and team["broken_promises"] == 2
    assert team["reviews"] == {"positive": 1, "negative": 1, "rated": 3}  # w8's 4 stars are neither
    assert [b["count"] for b in review["response_times"]] == [5, 0, 1, 0, 0, 1, 0]


def test_per_channel_and_the_lists_to_act_on(week: Copilot) -> None:
    review = week.weekly_review("7d", UNTIL)
    channels = {c["channel"]: c for c in review["channels"]}
    assert {name: c["response_rate"] for name, c in channels.items()} == {"livechat": 1.0, "shopee": 0.5,
                                                                          "tiki": 1.0}
    assert channels["shopee"]["days_at_target"] == 2  # Tuesday and Sunday
    assert [r["id"] for r in review["unanswered"]["rows"]] == ["w4", "w6"]
    assert review["unanswered"]["rows"][0]["link"] == "https://desk.example.org/t/w4"
    assert [r["id"] for r in review["broken_promises"]["rows"]] == ["w6", "w3"]
    complaints = review["complaints"]
    assert (complaints["complaints"], complaints["a_policy_answers"], complaints["not_solved_at_once"]) == (
        2, 2, 1)
    assert [(r["id"], r["urgency"], r["resolution_minutes"]) for r in complaints["rows"]] == [
        ("w2", "high", 216.0)]


def test_flow_compliance_per_agent_and_the_rules_they_broke(week: Copilot) -> None:
    agents = {a["agent"]: a for a in week.weekly_review("7d", UNTIL)["agents"]}
    assert {name: (a["finished"], a["review_asked"]) for name, a in agents.items()} == {
        "khoa": (2, 0.5), "lan": (1, 1.0), "ngoc": (3, 1.0)}  # minh's chat is still open
    assert agents["lan"]["violations"] == {"cancel_for_us": 1, "outside_contact": 1}
    assert agents["ngoc"]["violations"] == {} and agents["khoa"]["response_rate"] == 0.5


def test_returns_and_cancellations_by_the_knowledge_folders_reasons(week: Copilot) -> None:
    orders = week.weekly_review("7d", UNTIL)["orders"]
    assert orders["by_intent"] == {"return_item": 2, "cancel_order": 1, "swap_size": 1}
    assert {(r["intent"], r["reason"]) for r in orders["by_reason"]} == {
        ("cancel_order", "by_mistake"), ("return_item", "arrived_broken"), ("swap_size", "too_small"),
        ("return_item", "wrong_colour")}
    assert [(t["day"], t["intent"], t["count"]) for t in orders["trend"]] == [
        ("2026-03-02", "cancel_order", 1), ("2026-03-02", "return_item", 1), ("2026-03-05", "swap_size", 1),
        ("2026-03-08", "return_item", 1)]


def test_knowledge_gaps_group_what_the_copilot_was_not_sure_of(week: Copilot) -> None:
    gaps = week.weekly_review("7d", UNTIL)["knowledge_gaps"]
    assert gaps["questions"] == 1 and gaps["groups"][0]["example"] == GAP
    assert gaps["groups"][0]["intent"] == "other"


def test_a_table_without_out_of_scope_still_counts_its_fallback_intent_as_a_gap(
    make_knowledge: Callable[..., Path], tmp_path: Path,
) -> None:
    """`other` is triage's fallback whether or not `out_of_scope` is set; a question read as it is a gap."""
    table = "\n".join(line for line in REVIEW_TRIAGE.splitlines() if not line.startswith("out_of_scope:"))
    assert table != REVIEW_TRIAGE  # the fixture's table had the section
    copilot = qa_copilot(qa_knowledge(make_knowledge, {"triage.yaml": table + "\n"}), tmp_path)
    copilot.importer.import_file(write_jsonl(tmp_path / "week.jsonl", WEEK))
    gaps = copilot.weekly_review("7d", UNTIL)["knowledge_gaps"]
    assert GAP in {group["example"] for group in gaps["groups"]}


def test_an_automatic_reply_is_not_the_first_response(week: Copilot) -> None:
    """w7's first message back is the folder's automatic author (`robot`): the clock waits for Ngoc."""
    stored = week.stored_conversation("import", "w7")
    assert (stored["first_responder"], stored["first_response_seconds"], stored["in_sla"]) == (
        "ngoc", 20 * 60, False)
    assert [m["automatic"] for m in stored["messages_list"]] == [False, True, False, False, False]


def test_filters_narrow_every_number(week: Copilot) -> None:
    shopee = week.weekly_review("7d", UNTIL, channel="shopee")
    assert shopee["team"]["conversations"] == 6 and shopee["team"]["response_rate"] == 0.5
    assert [r["id"] for r in shopee["unanswered"]["rows"]] == ["w4"]
    khoa = week.weekly_review("7d", UNTIL, agent="khoa")
    assert khoa["team"]["conversations"] == 2 and [a["agent"] for a in khoa["agents"]] == ["khoa"]
    assert week.weekly_review("7d", UNTIL, channel="tiki")["target"] == 0.9  # review.yaml's `targets`
    empty = week.weekly_review("7d", "2026-02-22")
    assert empty["team"] is None and empty["latest_day"] == "2026-03-08"


def test_the_target_ratings_and_hours_are_the_knowledge_folders(build: Callable[..., Copilot]) -> None:
    """Another team's review.yaml: a 50 % target, four stars count as good, Shopee closes at 18:00."""
    review = REVIEW_YAML
    for old, new in {"target: 0.7": "target: 0.5", "positive: 5": "positive: 4",
                     'open: "08:00", close: "20:00"': 'open: "08:00", close: "18:00"'}.items():
        assert review.count(old) == 1, old  # the change applies to the fixture's file
        review = review.replace(old, new)
    team = build(review).weekly_review("7d", UNTIL)["team"]
    assert team["days_at_target"] == 5  # Monday's one of two now reaches the target
    assert team["reviews"] == {"positive": 2, "negative": 1, "rated": 3}
    assert team["first_response_minutes"]["p90"] == 60 + 30  # w2: Monday 17:00-18:00, Tuesday 08:00-08:30


def test_lists_come_in_pages(week: Copilot) -> None:
    config = week.review_config.model_copy(update={"page_size": 1})
    period = Period.parse("7d", UNTIL, config.zone)
    review = WeeklyReview(week.database, config, "troubleshoot")
    second = review.build(ReviewQuery(period, page=2))["unanswered"]
    assert (second["total"], second["page"], second["pages"]) == (2, 2, 2)
    assert [r["id"] for r in second["rows"]] == ["w6"]


@pytest.mark.parametrize(("since", "until", "message"), [
    ("7 days", UNTIL, "since: '7 days' is not a date"), ("0d", UNTIL, "between 1d and 366d"),
    ("2026-03-30", UNTIL, "is after until"), ("7d", "08/03/2026", "until: '08/03/2026' is not a date"),
])
def test_a_bad_period_is_named(week: Copilot, since: str, until: str, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(message)):
        week.weekly_review(since, until)


def test_draft_acceptance_and_the_drafts_agents_rejected_are_in_the_review(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    copilot = qa_copilot(qa_knowledge(make_knowledge), tmp_path)
    questions = ("shop có giao hàng ra đảo không", "in hóa đơn cho công ty được không",
                 "giao trong ngày được không?")
    for number, action in enumerate(("accepted", "rejected", "edited")):
        request, response = draft_pair(f"d{number}")
        request.messages[0].text = questions[number]
        copilot.feedback.record_draft(request, response)
        rewritten = "Dạ nội thành shop giao trong ngày, phí 25k ạ." if action == "edited" else None
        copilot.feedback.record_feedback(FeedbackRequest.model_validate(
            {"draft_id": f"d{number}", "action": action, "final_text": rewritten}))
    review = copilot.weekly_review("1d")
    assert review["drafts"]["by_step"]["greeting"] == {
        "drafts": 3, "feedback": 3, "accepted_rate": 0.333, "edited_rate": 0.333, "rejected_rate": 0.333,
        "rewritten": 1}
    gaps = review["knowledge_gaps"]
    assert gaps["questions"] == 2 and {g["example"] for g in gaps["groups"]} <= set(questions[1:])
    sources = {source for group in gaps["groups"] for source in group["sources"]}
    assert sources == {"draft rejected", "draft rewritten"}


def test_the_api_answers_json_and_html_and_names_bad_parameters(week: Copilot) -> None:
    with TestClient(create_app(copilot=week)) as client:
        data = client.get("/v1/review", params={"since": "7d", "until": UNTIL}).json()
        assert data["team"]["response_rate"] == 0.625
        html = client.get("/v1/review/html", params={"until": UNTIL, "lang": "vi"})
        assert html.status_code == 200 and "Tỷ lệ phản hồi" in html.text and html.text.count("<svg") == 4
        bad = client.get("/v1/review", params={"since": "soon"})
        assert bad.status_code == 400 and "since: 'soon'" in bad.json()["error"]["message"]
        assert client.get("/v1/review", params={"channel": "amazon"}).json()["error"]["message"].startswith(
            "unknown channel 'amazon'")
        assert client.get("/v1/review", params={"page": 0}).status_code == 422
        assert client.get("/v1/review/html", params={"lang": "fr"}).status_code == 422
        assert client.get("/review").status_code == 200
        found = client.get("/v1/review/conversation", params={"source": "import", "id": "w5"}).json()
        assert [m["violations"] for m in found["messages_list"]][2] == ["cancel_for_us", "outside_contact"]
        assert found["agent"] == "lan" and "vector" not in found
        missing = client.get("/v1/review/conversation", params={"source": "import", "id": "nope"})
        assert missing.status_code == 404
        assert "no stored conversation 'nope'" in missing.json()["error"]["message"]


def test_the_shared_page_is_one_file_with_its_charts_and_no_network(
    week: Copilot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_with_hashing(monkeypatch)
    settings = week.settings
    if settings.database_url:
        monkeypatch.setenv("COPILOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COPILOT_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli, ["review", "--until", UNTIL, "--out", str(tmp_path / "out"),
                                      "--knowledge", str(settings.knowledge_dir),
                                      "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    printed = " ".join(result.stdout.split())  # the table's cells as one line, however the console folds it
    assert "team │ 8 │ 62% │ 4/7 │" in printed  # conversations, response rate, days at the 70 % target
    assert "return_item 2, cancel_order 1, swap_size 1; reasons: by_mistake 1" in printed
    assert "past the service level: 2; broken promises: 2; complaints not solved at once: 1" in printed
    html = (tmp_path / "out" / "review.html").read_text(encoding="utf-8")
    assert html.count('data-testid="daily-chart"') == 2  # English and Vietnamese
    assert "Weekly review" in html and "Báo cáo tuần" in html and "Send back" in html  # review.yaml's title
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(url.startswith("https://desk.example.org/") for url in sources), sources
    assert "data-conversation" not in html  # a file cannot open a stored conversation: w6 is named only
    assert "<link" not in html and "<script src" not in html
