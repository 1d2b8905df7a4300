"""The `ChatModel` seam: what a drafter gets (a prompt with its structured context) and gives back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from copilot.flow.flows import FlowStep
from copilot.guardrails.models import Violation
from copilot.retrieval.hybrid import SearchHit

if TYPE_CHECKING:
    from copilot.compose.plan import ReplyPlan


class ChatModelError(Exception):
    """The model could not produce a usable reply (timeout, HTTP error, empty or malformed output)."""


@dataclass(frozen=True)
class DraftContext:
    """Everything known about the reply to write, for models that compose rather than prompt."""

    step: FlowStep
    language: str
    platform: str
    slots: dict[str, str]
    passages: list[SearchHit]
    customer_text: str
    feedback: list[Violation] = field(default_factory=list)
    variant: int = 0
    plan: ReplyPlan | None = None


@dataclass(frozen=True)
class DraftPrompt:
    """Chat messages for an LLM plus the same request as structured context."""

    messages: list[dict[str, str]]
    context: DraftContext


@dataclass(frozen=True)
class Completion:
    """A drafted reply; `passages` are the indexes (0-based) of the passages it used."""

    text: str
    model: str
    passages: list[int] = field(default_factory=list)


def words_of(text: str) -> Iterator[str]:
    """A whole reply as a stream, a word (with its trailing space) at a time: for models that cannot
    stream."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group(0)


class ChatModel(Protocol):
    """Writes the agent's next message for a prompt. Its capabilities are declared: `can_stream` (tokens as
    they come; otherwise `stream` yields the whole reply's words) and `supports_json` (`complete_json` answers
    a JSON object, as triage asks; otherwise it raises `ChatModelError`)."""

    can_stream: bool
    supports_json: bool

    @property
    def name(self) -> str: ...

    def complete(self, prompt: DraftPrompt) -> Completion: ...

    def stream(self, prompt: DraftPrompt) -> Iterator[str]: ...

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]: ...
