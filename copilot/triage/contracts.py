"""The triage API's shapes: the request, the response with its automatic reply, what an LLM must answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.contracts import MAX_MESSAGES, Citation, Customer, Message
from copilot.triage.model import IssueType, Urgency


class TriageRequest(BaseModel):
    """`POST /v1/triage`: the conversation so far (usually the customer's first messages)."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(default="livechat", max_length=64)
    customer: Customer = Field(default_factory=Customer)
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)


class AutoReply(BaseModel):
    text: str
    citations: list[Citation]


class TriageResponse(BaseModel):
    urgency: Urgency
    issue_type: IssueType
    intent: str
    sentiment: Literal["negative", "neutral", "positive"]
    customer_tier: str
    language: str
    route: str
    handoff: bool
    sla_minutes: int
    auto_reply: AutoReply | None
    holding_message: str | None = None
    confidence: float = Field(ge=0, le=1)
    reasons: list[str]
    out_of_scope: bool = Field(
        default=False,
        description="The message is none of the team's intents: `intent` is the configured fallback and a "
        "person answers.",
    )


class LLMTriage(BaseModel):
    """What the LLM must answer; anything else falls back to the local classifier."""

    model_config = ConfigDict(extra="ignore")

    intent: str
    urgency: Urgency
    sentiment: Literal["negative", "neutral", "positive"]
    confidence: float = Field(default=0.8, ge=0, le=1)
