"""A circuit breaker in front of an outside model: after repeated failures, stop calling it for a while.

While open, calls fail at once (the drafter then uses the local composer, marked degraded) instead of each
agent waiting for a timeout; after `cooldown` seconds one call is let through to see if the endpoint is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from copilot.compose.base import ChatModel, ChatModelError, Completion, DraftPrompt

T = TypeVar("T")


class CircuitBreaker:
    def __init__(
        self, failures: int = 3, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold, self.cooldown, self.clock = failures, cooldown, clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self.opened_at is not None and self.clock() - self.opened_at < self.cooldown

    def check(self) -> None:
        """Raise at once while the breaker is open."""
        if self.is_open:
            raise ChatModelError("the model endpoint keeps failing: skipped until it has had time to recover")

    def call(self, action: Callable[[], T]) -> T:
        self.check()
        try:
            result = action()
        except ChatModelError:
            self.failed()
            raise
        self.succeeded()
        return result

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()

    def succeeded(self) -> None:
        with self._lock:
            self.failures, self.opened_at = 0, None


class GuardedChatModel:
    """A ChatModel whose calls go through a CircuitBreaker."""

    def __init__(self, model: ChatModel, breaker: CircuitBreaker | None = None) -> None:
        self.model = model
        self.breaker = breaker or CircuitBreaker()
        self.can_stream = model.can_stream
        self.supports_json = model.supports_json

    @property
    def name(self) -> str:
        return self.model.name

    def complete(self, prompt: DraftPrompt) -> Completion:
        return self.breaker.call(lambda: self.model.complete(prompt))

    def stream(self, prompt: DraftPrompt) -> Iterator[str]:
        self.breaker.check()
        try:
            yield from self.model.stream(prompt)
        except ChatModelError:
            self.breaker.failed()
            raise
        self.breaker.succeeded()

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return self.breaker.call(lambda: self.model.complete_json(messages))
