"""The weekly review page in a real browser (Debian's Chromium through Playwright) over the hand-computed week
of tests/fixtures/review_week.jsonl (see tests/test_review.py for how each number comes about), served by the
real app under uvicorn with an API key: the numbers, the charts' bars and target line, the links, the filters
and the Vietnamese page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.browser import TIMEOUT_MS
from helpers.review import FIXTURE, UNTIL, review_copilot
from helpers.servers import serving
from playwright.sync_api import Browser, Page, expect

from api.main import create_app
from copilot import Copilot

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = "review-test-key"
SCREENSHOT = Path("/tmp/review.png")


@pytest.fixture(scope="module")
def server(shipped_copilot: Copilot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    copilot = review_copilot(shipped_copilot, tmp_path_factory.mktemp("review-browser"))
    copilot.importer.import_file(FIXTURE)
    app = create_app(copilot=copilot)
    app.state.api_keys = [KEY]
    with serving(app) as base:
        yield base


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/review?until={UNTIL}")
    page.get_by_test_id("api-key-input").fill(KEY)  # the server wants a key: the page asks for it once
    page.get_by_test_id("api-key-form").locator("button").click()
    expect(page.get_by_test_id("team")).to_be_visible()
    yield page
    context.close()
    assert not errors, errors


def metric(page: Page, name: str) -> str:
    return page.get_by_test_id(f"metric-{name}").locator(".metric-value").inner_text()


def test_the_weeks_numbers_are_the_hand_computed_ones(page: Page) -> None:
    assert metric(page, "response-rate") == "75%"
    assert metric(page, "days-at-target") == "5 / 7"
    assert metric(page, "first-response") == "4 min / 570 min"
    assert (metric(page, "waiting"), metric(page, "broken"), metric(page, "reviews")) == ("2", "2", "1 / 1")
    assert metric(page, "last-ours") == "75%" and metric(page, "conversations") == "8"
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_the_daily_chart_draws_each_day_against_the_target_line(page: Page) -> None:
    chart = page.get_by_test_id("daily-chart")
    bars = chart.locator("[data-testid=daily-bar]")
    expect(bars).to_have_count(7)
    rates = [float(bars.nth(i).get_attribute("data-rate") or "nan") for i in range(7)]
    assert rates == [0.5, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert chart.locator("rect.met").count() == 5 and chart.locator("rect.missed").count() == 2
    full = bars.nth(1).bounding_box()
    half = bars.nth(0).bounding_box()
    line = chart.get_by_test_id("target-line").bounding_box()
    assert full and half and line
    bottom = full["y"] + full["height"]
    assert half["height"] == pytest.approx(full["height"] / 2, rel=0.02)
    assert bottom - line["y"] == pytest.approx(0.8 * full["height"], abs=2)  # the 80 % line


def test_the_other_charts_and_the_lists_with_their_links(page: Page) -> None:
    distribution = page.get_by_test_id("distribution-chart").locator("[data-testid=distribution-chart-bar]")
    assert [distribution.nth(i).get_attribute("data-value") for i in range(distribution.count())] == [
        "4.0", "2.0", "0.0", "0.0", "0.0", "0.0", "1.0"]
    compliance = page.get_by_test_id("compliance-chart")
    asked = compliance.locator("[data-kind=review_asked]")
    assert {asked.nth(i).get_attribute("data-agent"): asked.nth(i).get_attribute("data-value")
            for i in range(asked.count())} == {"hoa": "1.0", "mai": "1.0", "tuan": "0.5"}
    reasons = page.get_by_test_id("reasons-chart").locator("[data-testid=reasons-chart-bar]")
    assert reasons.count() == 4
    links = page.get_by_test_id("unanswered-table").get_by_test_id("open-link")
    assert [links.nth(i).inner_text() for i in range(links.count())] == ["c4", "c6"]
    assert links.nth(0).get_attribute("href") == "https://chat.example.com/c4"
    links.nth(1).click()  # c6 has no helpdesk link: the page opens the stored conversation
    view = page.get_by_test_id("conversation")
    expect(view).to_have_attribute("data-id", "c6")
    expect(view.locator("[data-role=agent]")).to_have_count(2)
    expect(view).to_contain_text("It might take about 3 minutes")
    expect(page.get_by_test_id("broken-total")).to_have_attribute("data-total", "2")
    agents = page.get_by_test_id("agents-table")
    expect(agents.locator("tr", has_text="mai")).to_contain_text("buyer_cancel_request 1")
    expect(page.get_by_test_id("complaints-summary")).to_contain_text("not solved at once: 1")


def test_a_channel_filter_and_the_vietnamese_page(page: Page) -> None:
    page.get_by_test_id("channel").select_option("shopee")
    page.get_by_test_id("show").click()
    expect(page.get_by_test_id("metric-response-rate").locator(".metric-value")).to_have_text("67%")
    assert "channel=shopee" in page.url
    page.get_by_test_id("lang-vi").click()
    expect(page.get_by_test_id("review-period")).to_contain_text("Báo cáo tuần")
    expect(page.get_by_test_id("team")).to_contain_text("Tỷ lệ phản hồi")
    expect(page.get_by_test_id("metric-response-rate").locator(".metric-value")).to_have_text("67%")


def test_an_empty_week_offers_the_latest_stored_one(page: Page, server: str) -> None:
    page.goto(f"{server}/review?until=2026-11-01")
    expect(page.get_by_test_id("review-empty")).to_contain_text("2026-11-22")
    page.get_by_test_id("show-latest").click()
    expect(page.get_by_test_id("metric-response-rate").locator(".metric-value")).to_have_text("75%")
