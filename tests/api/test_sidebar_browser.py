"""The agent sidebar in a real browser
(Debian's Chromium through Playwright) against the real app under uvicorn."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers.browser import TIMEOUT_MS
from helpers.servers import serving
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.main import create_app
from copilot import Copilot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCREENSHOT = Path("/tmp/sidebar.png")
API_KEY = "sidebar-test-key"

SHOPEE_CANCEL = "\n".join([
    "C: Shop ơi",
    "A: Dạ em chào chị, em là Minh ạ.",
    "Khách: Shop ơi em đặt nhầm size, muốn hủy đơn được không?",
])
FAREWELL = "\n".join([
    "Customer: Hi, my popup is not showing on my store",
    "Agent: Hi Lan, this is Minh from Avada. Please enable the app embed in the theme editor.",
    "Customer: It works now",
    "Agent: Great, glad it is showing now!",
    "Customer: thanks, all good now!",
])
CANCEL_PUSH = "Anh/chị hủy đơn giúp shop nhé"


def app_context(channel: str = "Channel::WebWidget") -> dict[str, Any]:
    """What Chatwoot posts to a dashboard app: incoming (0), outgoing (1), an activity (2),
    a private note, a blank."""
    messages = [
        {"id": 1, "content": "Hi, my popup is not showing on my store", "message_type": 0},
        {"id": 2, "content": "Conversation was assigned to Minh", "message_type": 2},
        {
            "id": 3,
            "content": "Hi Lan, this is Minh from Avada. Let me check that for you.",
            "message_type": 1,
        },
        {"id": 4, "content": "customer is on the free plan", "message_type": 1, "private": True},
        {"id": 5, "content": "  ", "message_type": 0},
        {"id": 6, "content": "I already enabled the app embed but it still does not show", "message_type": 0},
    ]
    conversation = {
        "id": 42,
        "messages": messages,
        "meta": {"sender": {"name": "Lan Nguyen"}},
        "channel": channel,
    }
    return {
        "event": "appContext",
        "data": {
            "conversation": conversation,
            "contact": {"name": "Lan Nguyen"},
            "currentAgent": {"name": "Minh"},
        },
    }


APP_CONTEXT_CONVERSATION = "\n".join([
    "C: Hi, my popup is not showing on my store",
    "A: Hi Lan, this is Minh from Avada. Let me check that for you.",
    "C: I already enabled the app embed but it still does not show",
])


@pytest.fixture(scope="module")
def server(shipped_copilot: Copilot) -> Iterator[str]:
    with serving(create_app(copilot=shipped_copilot)) as base:
        yield base


@pytest.fixture(scope="module")
def keyed_server(shipped_copilot: Copilot) -> Iterator[str]:
    app = create_app(copilot=shipped_copilot)
    app.state.api_keys = [API_KEY]
    with serving(app) as base:
        yield base


def call(base: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """The API as the test sees it, to compare with what the page shows."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@dataclass
class Sidebar:
    """One page of the sidebar, with what the browser printed as errors."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    expected_errors: list[str] = field(default_factory=list)

    def open(self, path: str = "/sidebar") -> Sidebar:
        self.page.goto(self.base + path)
        expect(self.page.get_by_test_id("platform-select").locator("option[value=shopee]")).to_have_count(1)
        return self

    def by(self, test_id: str) -> Any:
        return self.page.get_by_test_id(test_id)

    def draft(self, conversation: str, platform: str = "livechat", customer: str = "", agent: str = "",
              brand: str = "") -> str:
        self.by("conversation-input").fill(conversation)
        self.by("platform-select").select_option(platform)
        self.by("customer-name").fill(customer)
        self.by("agent-name").fill(agent)
        self.by("brand").fill(brand)
        self.by("draft-button").click()
        return self.wait_for_draft()

    def wait_for_draft(self) -> str:
        expect(self.by("draft-section")).to_have_attribute("data-state", "ready", timeout=TIMEOUT_MS)
        text: str = self.by("draft-text").input_value()
        assert text.strip()
        return text

    def step_states(self) -> dict[str, str]:
        steps = self.page.locator("[data-testid=step]")
        return {steps.nth(i).get_attribute("data-step") or "": steps.nth(i).get_attribute("data-state") or ""
                for i in range(steps.count())}


def open_sidebar(browser: Browser, base: str, locale: str = "en-US") -> tuple[BrowserContext, Sidebar]:
    context = browser.new_context(viewport={"width": 400, "height": 900}, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sidebar = Sidebar(page, base)
    page.on(
        "console", lambda message: sidebar.errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: sidebar.errors.append(f"uncaught: {error}"))
    return context, sidebar


@contextmanager
def checked(context: BrowserContext, sidebar: Sidebar) -> Iterator[Sidebar]:
    """Closes the browser context and fails on any console
    error or uncaught exception the test did not expect."""
    try:
        yield sidebar
    finally:
        context.close()
    unexpected = [e for e in sidebar.errors if not any(allowed in e for allowed in sidebar.expected_errors)]
    assert unexpected == [], f"browser console errors: {unexpected}"


@pytest.fixture
def sidebar(browser: Browser, server: str) -> Iterator[Sidebar]:
    context, page = open_sidebar(browser, server)
    with checked(context, page) as checked_page:
        yield checked_page


def test_shopee_cancel_draft_is_vietnamese_with_steps_and_a_readable_source(sidebar: Sidebar) -> None:
    requests: list[str] = []
    sidebar.page.on("request", lambda request: requests.append(request.url))
    sidebar.open()
    text = sidebar.draft(SHOPEE_CANCEL, platform="shopee", customer="Lan", agent="Minh", brand="Avada")

    assert "hủy" in text and "chị" in text and "anh/chị" not in text.lower()  # the agent already said "chị"
    assert any(url.endswith("/v1/drafts/stream") for url in requests)
    states = sidebar.step_states()
    assert states["greeting"] == "done" and states["troubleshoot"] == "current"
    assert list(states.values()).count("current") == 1
    expect(sidebar.page.locator("[data-state=current]")).to_have_attribute("aria-current", "step")
    expect(sidebar.by("draft-step")).to_have_attribute("data-acts", "troubleshoot")
    expect(sidebar.by("verdict")).to_have_attribute("data-state", "ok")
    expect(sidebar.by("verdict")).to_contain_text("Shopee")

    chips = sidebar.by("citation")
    expect(chips.first).to_be_visible()
    assert chips.first.inner_text().startswith("[1]")
    sidebar.page.screenshot(path=str(SCREENSHOT), full_page=False)

    chip = chips.first
    passage = call(sidebar.base, "/v1/knowledge/passages?" + urllib.parse.urlencode(
        {"id": chip.get_attribute("data-id"), "section": chip.get_attribute("data-section")}))
    chip.click()
    expect(sidebar.by("passage-panel")).to_be_visible()
    expect(sidebar.by("passage-text")).to_have_text(passage["text"])
    sidebar.by("passage-close").click()
    expect(sidebar.by("passage-panel")).to_be_hidden()


def test_farewell_draft_asks_for_a_review(sidebar: Sidebar) -> None:
    sidebar.open()
    text = sidebar.draft(FAREWELL, customer="Lan", agent="Minh", brand="Avada")

    assert "review" in text.lower()
    assert sidebar.step_states()["farewell"] == "current"
    expect(sidebar.by("verdict")).to_have_attribute("data-state", "ok")


def test_editing_the_draft_into_a_cancel_request_shows_the_rule_and_marks_it(sidebar: Sidebar) -> None:
    sidebar.open()
    sidebar.draft(SHOPEE_CANCEL, platform="shopee", customer="Lan", agent="Minh")
    expected = call(sidebar.base, "/v1/guardrails/check",
                    {"text": CANCEL_PUSH, "platform": "shopee", "step": "troubleshoot"})["violations"]
    cancel = next(v for v in expected if v["rule"] == "buyer_cancel_request")

    sidebar.by("draft-text").fill(CANCEL_PUSH)

    verdict = sidebar.by("verdict")
    expect(verdict).to_have_attribute("data-state", "blocked")
    expect(verdict).to_contain_text(cancel["message"])
    expect(verdict).to_have_css("color", "rgb(179, 38, 30)")
    start, end = cancel["span"]
    expect(sidebar.by("draft-preview").locator("mark")).to_have_text(CANCEL_PUSH[start:end])


def test_accepting_an_edited_draft_is_saved_as_edited(sidebar: Sidebar) -> None:
    sidebar.open()
    sidebar.draft(SHOPEE_CANCEL, platform="shopee", customer="Lan", agent="Minh")
    before = call(sidebar.base, "/v1/stats")["total"]["feedback"]
    final_text = "Dạ shop cảm ơn chị Lan, chị có thể tự gửi yêu cầu hủy trong chi tiết đơn hàng ạ."
    sidebar.by("draft-text").fill(final_text)

    with sidebar.page.expect_request(lambda r: r.url.endswith("/v1/feedback")) as sent:
        sidebar.by("feedback-accept").click()

    assert json.loads(sent.value.post_data or "{}") == {
        "draft_id": sidebar.by("draft-section").get_attribute("data-draft-id"), "action": "edited",
        "final_text": final_text}
    expect(sidebar.by("feedback-message")).to_have_text("Thanks, feedback saved")
    assert call(sidebar.base, "/v1/stats")["total"]["feedback"] == before + 1


def test_chatwoot_app_context_fills_the_conversation_and_drafts(sidebar: Sidebar) -> None:
    sidebar.open()
    sidebar.page.evaluate("context => window.postMessage(context, '*')", app_context())

    text = sidebar.wait_for_draft()
    expect(sidebar.by("conversation-input")).to_have_value(APP_CONTEXT_CONVERSATION)
    expect(sidebar.by("customer-name")).to_have_value("Lan Nguyen")
    expect(sidebar.by("agent-name")).to_have_value("Minh")
    expect(sidebar.by("platform-select")).to_have_value("livechat")
    assert re.search(r"[a-z]", text) and "Lan" in sidebar.by("conversation-summary").inner_text()



def test_the_chatwoot_channel_picks_the_platform_that_names_it_in_the_knowledge_base(
    sidebar: Sidebar,
) -> None:
    sidebar.open()
    sidebar.page.evaluate("context => window.postMessage(context, '*')", app_context("Channel::FacebookPage"))
    expect(sidebar.by("platform-select")).to_have_value("facebook", timeout=TIMEOUT_MS)  # platforms.yaml
    sidebar.page.evaluate("context => window.postMessage(context, '*')", app_context("Channel::Telegram"))
    expect(sidebar.by("platform-select")).to_have_value(
        "livechat", timeout=TIMEOUT_MS
    )  # named by none: default


HELPDESK = """<!doctype html><html><body style="margin:0;display:flex">
<div style="flex:1;padding:8px">Helpdesk conversation</div>
<iframe id="app" src="/sidebar" style="width:400px;height:900px;border:0"></iframe>
<script>
  window.received = [];
  window.addEventListener("message", (event) => {
    window.received.push(event.data);
    if (event.data === "chatwoot-dashboard-app:fetch-info") {
      document.getElementById("app").contentWindow.postMessage(JSON.stringify(CONTEXT), "*");
    }
  });
</script></body></html>"""


def test_inside_a_helpdesk_iframe_it_asks_for_context_and_inserts_the_draft(sidebar: Sidebar) -> None:
    page = sidebar.page
    host = HELPDESK.replace("CONTEXT", json.dumps(app_context("Channel::Api")))
    page.route("**/helpdesk", lambda route: route.fulfill(body=host, content_type="text/html"))
    page.goto(sidebar.base + "/helpdesk")
    frame = page.frame_locator("#app")

    expect(frame.get_by_test_id("draft-section")).to_have_attribute("data-state", "ready", timeout=TIMEOUT_MS)
    expect(frame.get_by_test_id("conversation-input")).to_have_value(APP_CONTEXT_CONVERSATION)
    assert "chatwoot-dashboard-app:fetch-info" in page.evaluate("window.received")
    draft = frame.get_by_test_id("draft-text").input_value()

    frame.get_by_test_id("insert-button").click()
    expect(frame.get_by_test_id("action-message")).to_have_text("Sent to helpdesk")
    page.wait_for_function("window.received.some(m => m && m.type === 'copilot:insert')")
    inserted = page.evaluate("window.received.find(m => m && m.type === 'copilot:insert')")
    assert inserted == {"type": "copilot:insert", "text": draft}


def test_language_toggle_switches_labels_to_vietnamese_and_is_remembered(sidebar: Sidebar) -> None:
    sidebar.open()
    expect(sidebar.by("draft-button")).to_contain_text("Draft reply")

    sidebar.by("lang-vi").click()

    expect(sidebar.by("draft-button")).to_contain_text("Soạn trả lời")
    expect(sidebar.page.locator("html")).to_have_attribute("lang", "vi")
    expect(sidebar.by("lang-vi")).to_have_attribute("aria-pressed", "true")
    expect(sidebar.by("feedback-accept")).to_have_attribute("aria-label", re.compile("bản nháp"))
    sidebar.page.reload()
    expect(sidebar.by("draft-button")).to_contain_text("Soạn trả lời")


def test_vietnamese_browsers_get_vietnamese_labels(browser: Browser, server: str) -> None:
    context, page = open_sidebar(browser, server, locale="vi-VN")
    with checked(context, page) as sidebar:
        sidebar.open()
        expect(sidebar.by("draft-button")).to_contain_text("Soạn trả lời")


def test_a_401_asks_for_the_api_key_and_sends_it_afterwards(browser: Browser, keyed_server: str) -> None:
    context, page = open_sidebar(browser, keyed_server)
    with checked(context, page) as sidebar:
        sidebar.expected_errors.append("status of 401")
        sidebar.page.goto(keyed_server + "/sidebar")
        expect(sidebar.by("api-key-form")).to_be_visible()
        expect(sidebar.by("error")).to_contain_text("API key")

        sidebar.by("api-key-input").fill(API_KEY)
        sidebar.by("api-key-save").click()
        expect(sidebar.by("api-key-form")).to_be_hidden()
        with sidebar.page.expect_request(lambda r: r.url.endswith("/v1/drafts/stream")) as sent:
            sidebar.draft(FAREWELL)
        assert sent.value.headers["authorization"] == f"Bearer {API_KEY}"


def test_an_api_error_shows_its_message(sidebar: Sidebar) -> None:
    sidebar.expected_errors.append("status of 422")
    sidebar.open()
    sidebar.by("conversation-input").fill("\n".join(["C: hi"] * 201))
    sidebar.by("draft-button").click()

    expect(sidebar.by("error")).to_contain_text("messages")
    expect(sidebar.by("draft-section")).to_have_attribute("data-state", "error")
    expect(sidebar.by("draft-button")).to_be_enabled()


def test_an_empty_conversation_asks_for_one(sidebar: Sidebar) -> None:
    sidebar.open()
    sidebar.by("draft-button").click()
    expect(sidebar.by("error")).to_contain_text("Paste the conversation")


def test_a_broken_stream_falls_back_to_the_plain_draft(sidebar: Sidebar) -> None:
    sidebar.expected_errors.append("net::ERR_FAILED")
    sidebar.page.route("**/v1/drafts/stream", lambda route: route.abort())
    sidebar.open()
    with sidebar.page.expect_request(lambda r: r.url.endswith("/v1/drafts")):
        text = sidebar.draft(FAREWELL)
    assert "review" in text.lower()
