"""The team lead's weekly review: numbers, lists and charts over the stored conversations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import CopilotDep
from copilot.review.html import conversation, fragment
from copilot.review.labels import LABELS

router = APIRouter(prefix="/review", tags=["review"])

Since = Annotated[
    str, Query(max_length=12, description="`7d` (the days ending on `until`) or a date YYYY-MM-DD.")
]
Until = Annotated[str | None, Query(max_length=10, description="The last day, YYYY-MM-DD; default today.")]
Channel = Annotated[str | None, Query(max_length=64, description="Only this channel (a platform).")]
Agent = Annotated[str | None, Query(max_length=100, description="Only this agent's conversations.")]
Page = Annotated[int, Query(ge=1, le=10_000, description="The page of every list.")]
Language = Annotated[str, Query(pattern="^(" + "|".join(LABELS) + ")$", description="en or vi.")]


@router.get("")
def review(copilot: CopilotDep, since: Since = "7d", until: Until = None, channel: Channel = None,
           agent: Agent = None, page: Page = 1) -> dict[str, Any]:
    """Per channel, per agent and for the team: response rate within the service levels and the days at the
    target, response and resolution times, who waits unanswered or past a promise (with links), flow
    compliance, returns and refunds by reason, knowledge gaps, and draft acceptance."""
    return copilot.weekly_review(since, until, channel or None, agent or None, page)


@router.get("/html", response_class=HTMLResponse)
def review_html(copilot: CopilotDep, since: Since = "7d", until: Until = None, channel: Channel = None,
                agent: Agent = None, page: Page = 1, lang: Language = "en") -> HTMLResponse:
    """The same review as an HTML fragment with its charts (inline SVG), for the /review page."""
    data = copilot.weekly_review(since, until, channel or None, agent or None, page)
    return HTMLResponse(fragment(data, copilot.review_config, lang, copilot.channel_titles))


Source = Annotated[
    str, Query(min_length=1, max_length=16, description="Where it came from: import, chatwoot.")
]
Conversation = Annotated[str, Query(min_length=1, max_length=200, description="Its id there.")]


@router.get("/conversation")
def stored_conversation(copilot: CopilotDep, source: Source, id: Conversation) -> dict[str, Any]:
    """One stored conversation with its messages (time, author, steps, rules broken) and its analysis."""
    return copilot.stored_conversation(source, id)


@router.get("/conversation/html", response_class=HTMLResponse)
def stored_conversation_html(copilot: CopilotDep, source: Source, id: Conversation,
                             lang: Language = "en") -> HTMLResponse:
    """The same conversation as an HTML fragment, for the /review page's lists."""
    found = copilot.stored_conversation(source, id)
    return HTMLResponse(conversation(found, lang, copilot.channel_titles, copilot.review_config.zone))
