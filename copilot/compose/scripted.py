"""The scripted `ChatModel`: the test double of the seam, in process, with no server.

A test enqueues what the model answers, replies (a text or a `Completion`) with `enqueue` and JSON objects
with `enqueue_json`, each queue in order and either able to hold an exception to raise, and reads back every
request it was given in `history`. A call with nothing enqueued is a `ChatModelError`, the error a real
endpoint raises, so the caller's fallback path runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from copilot.compose.base import ChatModelError, Completion, DraftPrompt, words_of
from copilot.compose.openai_chat import completion_from_text

Reply = str | Completion | Exception
JsonAnswer = dict[str, Any] | Exception


@dataclass(frozen=True)
class Call:
    """One request the scripted model was given: the method and its messages (and the draft prompt, if
    any)."""

    method: str
    messages: list[dict[str, str]]
    prompt: DraftPrompt | None = None


class ScriptedChatModel:
    """Answers from a queue, in order; records every call."""

    __test__ = False  # not a test class, whatever pytest's name rules say
    can_stream = True
    supports_json = True

    def __init__(self, *replies: Reply, name: str = "scripted") -> None:
        self._name = name
        self._replies: deque[Reply] = deque(replies)
        self._json: deque[JsonAnswer] = deque()
        self.history: list[Call] = []

    @property
    def name(self) -> str:
        return self._name

    def enqueue(self, *replies: Reply) -> ScriptedChatModel:
        self._replies.extend(replies)
        return self

    def enqueue_json(self, *answers: JsonAnswer) -> ScriptedChatModel:
        self._json.extend(answers)
        return self

    def complete(self, prompt: DraftPrompt) -> Completion:
        answer = self._next(self._replies, "complete", prompt.messages, prompt)
        if isinstance(answer, Completion):
            return answer
        return completion_from_text(answer, self.name, len(prompt.context.passages))

    def stream(self, prompt: DraftPrompt) -> Iterator[str]:
        return words_of(self.complete(prompt).text)

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        answer: dict[str, Any] = self._next(self._json, "complete_json", messages)
        return answer

    def _next(self, queue: deque[Any], method: str, messages: list[dict[str, str]],
              prompt: DraftPrompt | None = None) -> Any:
        self.history.append(Call(method, list(messages), prompt))
        if not queue:
            raise ChatModelError(f"{self.name}: nothing enqueued for call {len(self.history)} ({method})")
        answer = queue.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer
