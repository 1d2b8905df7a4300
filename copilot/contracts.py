"""Request models of the public contract, shared by the library, the CLI and the HTTP API."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import InvalidRequestError

M = TypeVar("M", bound=BaseModel)
LanguageChoice = Literal["auto", "en", "vi"]
MAX_TEXT = 20_000


class Message(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["customer", "agent"]
    text: str = Field(max_length=MAX_TEXT)


class GuardrailRequest(BaseModel):
    """`POST /v1/guardrails/check`: any text, a draft or an agent's own reply."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT, description="The reply to check.")
    platform: str = Field(default="livechat", max_length=64)
    flow: str = Field(default="livechat", max_length=64)
    step: str | None = Field(default=None, max_length=64, description="The flow step the reply is for.")
    language: LanguageChoice = "auto"


def parse_request(model: type[M], data: object) -> M:
    """Validate `data` as `model`; problems become one InvalidRequestError naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in error['loc']) or 'request'}: {error['msg']}" for error in exc.errors()]
        raise InvalidRequestError("; ".join(problems)) from exc
