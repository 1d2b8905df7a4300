"""Request models of the public contract, shared by the library, the CLI and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from copilot.errors import InvalidRequestError
from copilot.guardrails.models import Violation

M = TypeVar("M", bound=BaseModel)
LanguageChoice = Literal["auto", "en", "vi"]
MAX_TEXT = 20_000


class Message(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["customer", "agent"]
    text: str = Field(max_length=MAX_TEXT)
    at: datetime | None = Field(default=None, description="When it was sent (ISO 8601; no offset: the team's "
                                "time zone).")
    author: str | None = Field(default=None, max_length=100, description="The agent's id or name.")


class GuardrailRequest(BaseModel):
    """`POST /v1/guardrails/check`: any text, a draft or an agent's own reply."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT, description="The reply to check.")
    platform: str = Field(default="livechat", max_length=64)
    flow: str = Field(default="livechat", max_length=64)
    step: str | None = Field(default=None, max_length=64, description="The flow step the reply is for.")
    language: LanguageChoice = "auto"
    messages: list[Message] | None = Field(
        default=None, max_length=200,
        description="The conversation before the text, when the text is a draft for it (additive): the rules "
                    "that compare a draft with its conversation (an action reported done that it does not "
                    "show) then apply.")


def parse_request(model: type[M], data: object) -> M:
    """Validate `data` as `model`; problems become one InvalidRequestError naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise InvalidRequestError("; ".join(problems)) from exc


def _problem(error: ErrorDetails) -> str:
    """One validation problem, named by its field's path (`request`: the whole body)."""
    where = ".".join(str(part) for part in error["loc"]) or "request"
    return f"{where}: {error['msg']}"


Tier = Literal["vip", "loyal", "new", "potential"]
MAX_MESSAGES = 200


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    tier: Tier = "new"


class Agent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)


class DraftRequest(BaseModel):
    """`POST /v1/drafts`: the conversation so far; only `messages` is required."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(default="livechat", max_length=64)
    flow: str = Field(default="livechat", max_length=64)
    language: LanguageChoice = "auto"
    customer: Customer = Field(default_factory=Customer)
    agent: Agent = Field(default_factory=Agent)
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    step: str | None = Field(
        default=None, max_length=64, description="Force this step instead of locating it."
    )

    def slots(self) -> dict[str, str]:
        values = {
            "customer_name": self.customer.name,
            "agent_name": self.agent.name,
            "brand": self.agent.brand,
        }
        return {name: value.strip() for name, value in values.items() if value and value.strip()}


class Citation(BaseModel):
    id: str
    title: str
    section: str
    score: float = Field(ge=0, le=1)


class GuardrailVerdict(BaseModel):
    allowed: bool
    violations: list[Violation] = Field(default_factory=list)
    repairs: list[str] = Field(default_factory=list, description="What was changed to make the draft pass.")


class AnswerRef(BaseModel):
    """The answer unit a draft answers from, and how sure the selector was."""

    id: str
    confidence: float = Field(ge=0, le=1)


class NeedRef(BaseModel):
    """The customer's need as the understanding stage read it (one of the team's intents)."""

    intent: str
    confidence: float = Field(ge=0, le=1)


class DraftResponse(BaseModel):
    """The proposed reply with where the conversation stands, its sources and the guardrail verdict."""

    draft_id: str
    draft: str
    step: str
    next_steps: list[str]
    steps_done: list[str]
    language: str
    citations: list[Citation]
    guardrails: GuardrailVerdict
    handoff: dict[str, object] | None = None
    model: str
    degraded: bool = False
    latency_ms: float
    acts: list[str] = Field(default_factory=list, description="The flow steps the draft performs, in order.")
    answer: AnswerRef | None = Field(
        default=None, description="The answer unit used; null: the draft held back."
    )
    need: NeedRef | None = None
