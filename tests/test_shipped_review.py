"""The shipped knowledge's QA, weekly review and masking words: what `knowledge/review.yaml`, the shipped
flow, rule packs and triage table and `language.yaml`'s address words make the product do. What the code does
with any such folder is tested on the tests' own small folders (`test_qa.py`, `test_review.py`,
`test_review_import.py`, `test_pii.py`): editing the shipped knowledge may fail this file, never those."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import REPO, SHIPPED_KNOWLEDGE
from helpers.review import FIXTURE, UNTIL, review_copilot

from copilot import Copilot
from copilot.review.config import ReviewConfig
from copilot.triage.config import TriageConfig
from copilot.understand.pii import AddressWords, PiiMasker

SAMPLE = REPO / "evals" / "transcripts" / "sample.jsonl"
ADDRESSED = ("Chị gửi về 123 Nguyễn Trãi, phường 2, quận 5, sđt 0901 234 567, email lan.nguyen@gmail.com, "
             "thẻ 4111 1111 1111 1111. Mã đơn 230512ABC, size 42, giá 350.000đ.")


def test_the_shipped_review_yaml_loads_and_counts_the_triage_tables_order_intents() -> None:
    config = ReviewConfig.load(SHIPPED_KNOWLEDGE)
    intents = TriageConfig.load(SHIPPED_KNOWLEDGE / "triage.yaml").intents
    assert config.order_intents and set(config.order_intents) <= set(intents)
    for key in [*config.reasons, *config.order_intents, "unstated"]:
        assert {"en", "vi"} <= set(config.titles.get(key, {})), key  # the review page shows it in words


# --- QA of the sample transcripts (evals/transcripts/sample.jsonl) with the shipped flow and rules ----------


@pytest.fixture(scope="module")
def sample_reviews(shipped_copilot: Copilot) -> dict[str, Any]:
    from copilot.qa import load_transcripts, review_conversation
    from copilot.review.config import QAWeights

    tracker = shipped_copilot.drafter.tracker(shipped_copilot.knowledge.flows["livechat"])
    weights = QAWeights.of(SHIPPED_KNOWLEDGE)
    return {t.id: review_conversation(t, tracker, shipped_copilot.guardrails, weights)
            for t in load_transcripts(SAMPLE, shipped_copilot.knowledge)}


def test_the_shipped_flow_gives_the_sample_that_follows_it_full_marks(sample_reviews: dict[str, Any]) -> None:
    good = sample_reviews["avada-good"]
    assert good.steps_missing == [] and good.in_order and good.review_asked and good.score == 100


def test_the_shipped_flow_catches_the_samples_missing_review_ask_and_probing(
        sample_reviews: dict[str, Any]) -> None:
    review = sample_reviews["avada-no-review"]
    assert not review.review_asked and review.score < 60 and "probing" in review.steps_missing


def test_the_shipped_marketplace_rules_flag_the_samples_cancel_and_off_platform_message(
        sample_reviews: dict[str, Any]) -> None:
    review = sample_reviews["shopee-violation"]
    flagged = [m for m in review.messages if m.violations]
    assert len(flagged) == 1 and flagged[0].index == 2
    assert {v.rule for v in flagged[0].violations} == {"buyer_cancel_request", "off_platform_transaction"}
    assert review.review_asked


# --- the review of tests/fixtures/review_week.jsonl under the shipped hours, service levels and rules -------
# The week, Monday 16 to Sunday 22 November 2026 (the shipped hours: Shopee is staffed 08:00-17:30 Monday to
# Saturday): c1 answered in 4 min; c2 answered the next day (570 business minutes); c3 in 3 min but promised 5
# minutes and updated after 27; c4 never answered; c5 in 6 min, with two marketplace rules broken by Mai; c6
# answered in 2 min, promised 3 minutes and never updated; c7 in 5 min, a question no policy answers; c8 on
# Sunday (the clock is paused) answered at once. Response rate 6 of 8; days at the 80 % target: all but Monday
# (1 of 2) and Wednesday.


@pytest.fixture(scope="module")
def shipped_week(shipped_copilot: Copilot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copilot]:
    copilot = review_copilot(shipped_copilot, tmp_path_factory.mktemp("shipped-week"))
    copilot.importer.import_file(FIXTURE)
    yield copilot
    copilot.database.dispose()


def test_the_shipped_service_levels_and_hours_give_the_weeks_numbers(shipped_week: Copilot) -> None:
    review = shipped_week.weekly_review("7d", UNTIL)
    team = review["team"]
    assert review["target"] == 0.8 and (team["answered_in_time"], team["needed_answer"]) == (6, 8)
    assert team["days_at_target"] == 5 and team["first_response_minutes"] == {"p50": 4.0, "p90": 570.0}
    assert team["waiting_past_service_level"] == 2 and team["broken_promises"] == 2
    assert team["reviews"] == {"positive": 1, "negative": 1, "rated": 2}


def test_the_shipped_triage_reasons_and_rules_read_the_weeks_requests(shipped_week: Copilot) -> None:
    review = shipped_week.weekly_review("7d", UNTIL)
    assert review["orders"]["by_intent"] == {"return_refund": 2, "cancel_order": 1, "exchange": 1}
    assert {(r["intent"], r["reason"]) for r in review["orders"]["by_reason"]} == {
        ("cancel_order", "ordered_by_mistake"), ("return_refund", "damaged"), ("exchange", "wrong_size"),
        ("return_refund", "wrong_item")}
    agents = {a["agent"]: a for a in review["agents"]}
    assert agents["mai"]["violations"] == {"buyer_cancel_request": 1, "off_platform_transaction": 1}
    assert [g["example"] for g in review["knowledge_gaps"]["groups"]] == [
        "Shop có bán sỉ số lượng lớn không ạ?"]


# --- language.yaml's address words --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def words() -> AddressWords:
    return AddressWords.load(SHIPPED_KNOWLEDGE)


def test_the_shipped_words_mask_a_vietnamese_address_with_its_ward_and_district(words: AddressWords) -> None:
    masker = PiiMasker(words)
    masked = masker.mask(ADDRESSED)
    assert masked.startswith("Chị gửi về [ADDRESS_1], sđt [PHONE_1], email [EMAIL_1], thẻ [CARD_1].")
    assert masker.tokens["[ADDRESS_1]"] == "123 Nguyễn Trãi, phường 2, quận 5"
    assert "230512ABC" in masked and "size 42" in masked and "350.000đ" in masked
    assert masker.unmask(masked) == ADDRESSED


def test_the_shipped_street_words_are_whole_words(words: AddressWords) -> None:
    for text in ("I sent 12 photos of the box", "we sell 2 phones a day", "see the 3 roadmaps"):
        assert PiiMasker(words).mask(text) == text
    assert PiiMasker(words).mask("Giao về 12 phố Huế") == "Giao về [ADDRESS_1]"
    assert PiiMasker(words).mask("ship to 45 Baker Street, London") == "ship to [ADDRESS_1]"


def test_the_shipped_abbreviations_open_every_part_of_an_address(words: AddressWords) -> None:
    for text in ("giao 123 Nguyễn Trãi, p.2, q.5", "giao 123 Nguyễn Trãi, phường 2, q.5, tp. HCM"):
        assert PiiMasker(words).mask(text) == "giao [ADDRESS_1]", text

