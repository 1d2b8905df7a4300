"""A team's words are data: the issue types that read as feedback, the teams that take an issue type on a
marketplace, and the issue types the weekly review counts as complaints come from `triage.yaml` and
`review.yaml`, so editing them changes what triage and the review decide (issue 16, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.qa_kb import REVIEW_YAML, UNTIL, WEEK, qa_copilot, qa_knowledge, write_jsonl
from helpers.triage_kb import TRIAGE_DOCS, TRIAGE_TABLE, triage

from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

PRAISE = "cảm ơn shop nhiều, áo đẹp lắm"
VOUCHER = "mã voucher báo không hợp lệ khi thanh toán"


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[[str], Copilot]:
    def make(table: str) -> Copilot:
        knowledge = make_knowledge({**TRIAGE_DOCS, "triage.yaml": table})
        copilot = Copilot(Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index"),
                          embedder=HashingEmbedder())
        copilot.ingest()
        return copilot

    return make


def test_the_feedback_issue_types_are_the_tables(build: Callable[[str], Copilot]) -> None:
    shipped_like = triage(build(TRIAGE_TABLE), PRAISE, platform="livechat", name="Vy")
    assert (shipped_like.issue_type, shipped_like.urgency) == ("idea_suggestion", "low")
    assert shipped_like.auto_reply is not None  # the bot's thanks

    no_feedback = TRIAGE_TABLE.replace("feedback_issue_types: [idea_suggestion]", "feedback_issue_types: []")
    result = triage(build(no_feedback), PRAISE, platform="livechat", name="Vy")
    assert (result.issue_type, result.urgency) == ("idea_suggestion", "medium"), result.reasons
    assert "an idea, feedback or a compliment: low" not in result.reasons


def test_a_question_type_named_as_feedback_reads_low(build: Callable[[str], Copilot]) -> None:
    table = TRIAGE_TABLE.replace("feedback_issue_types: [idea_suggestion]",
                                 "feedback_issue_types: [idea_suggestion, product_question]")
    result = triage(build(table), VOUCHER, platform="livechat")
    assert (result.issue_type, result.urgency) == ("product_question", "low"), result.reasons


def test_the_marketplace_teams_are_by_issue_type_from_the_table(build: Callable[[str], Copilot]) -> None:
    table = TRIAGE_TABLE.replace("marketplace_by_issue_type: {order_request: market-desk}",
                                 "marketplace_by_issue_type: {product_question: shop-desk}")
    assert table != TRIAGE_TABLE
    copilot = build(table)
    assert triage(copilot, VOUCHER, platform="shopee").route == "shop-desk"
    assert triage(copilot, VOUCHER, platform="livechat").route == "front-desk"
    assert triage(copilot, "how can I cancel an order", platform="shopee").route == "front-desk"


def test_the_issue_types_the_review_counts_as_complaints_are_review_yamls(
        make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    def complaints(review_yaml: str, folder: str) -> int:
        knowledge = qa_knowledge(make_knowledge, {"review.yaml": review_yaml})
        copilot = qa_copilot(knowledge, tmp_path / folder, "")
        copilot.importer.import_file(write_jsonl(tmp_path / folder / "week.jsonl", WEEK))
        counted = int(copilot.weekly_review("7d", UNTIL)["complaints"]["complaints"])
        copilot.database.dispose()
        return counted

    named = "complaint_issue_types: [complaint]"
    assert named in REVIEW_YAML
    by_type = complaints(REVIEW_YAML, "by-type")
    upset_only = complaints(REVIEW_YAML.replace(named, "complaint_issue_types: []"), "upset-only")
    assert by_type == 2 and upset_only < by_type
