"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) through the `openai` SDK."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from copilot.compose.base import ChatModelError, Completion, DraftPrompt

CITATION = re.compile(r"\s?\[(\d{1,2})\]")


class OpenAIChatModel:
    """Chat completions with a timeout; the SDK retries 429 and 5xx with exponential backoff."""

    can_stream = True
    supports_json = True

    def __init__(
        self, base_url: str, model: str, api_key: str = "", timeout: float = 20.0, max_retries: int = 2,
        temperature: float = 0.3,
    ) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout,
                              max_retries=max_retries)
        self.model = model
        self.temperature = temperature

    @property
    def name(self) -> str:
        return self.model

    def complete(self, prompt: DraftPrompt) -> Completion:
        response = self._call(prompt, stream=False)
        try:
            text = response.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise ChatModelError(f"malformed completion from {self.model}: {exc}") from exc
        return completion_from_text(text, self.model, len(prompt.context.passages))

    def stream(self, prompt: DraftPrompt) -> Iterator[str]:
        """Text deltas as they arrive; a stream that ends before the model's finish reason is an error."""
        chunks = self._call(prompt, stream=True)
        finished = False
        try:
            for chunk in chunks:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finished = finished or choice.finish_reason is not None
                if choice.delta and choice.delta.content:
                    yield choice.delta.content
        except Exception as exc:
            raise ChatModelError(f"the stream from {self.model} broke off: {exc}") from exc
        if not finished:
            raise ChatModelError(f"the stream from {self.model} ended before the reply was finished")

    def complete_json(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """A JSON object from the model (JSON mode), for structured answers such as triage."""
        import openai

        try:
            response = self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model, messages=messages, temperature=0, response_format={"type": "json_object"}
            )
            text = response.choices[0].message.content or ""
        except (openai.OpenAIError, ValueError, AttributeError, IndexError) as exc:
            raise ChatModelError(f"{self.model} failed: {type(exc).__name__}: {exc}") from exc
        return parse_json_object(text, self.model)

    def _call(self, prompt: DraftPrompt, stream: bool) -> Any:
        import openai

        try:
            return self._client.chat.completions.create(
                model=self.model,
                messages=prompt.messages,  # type: ignore[arg-type]
                temperature=self.temperature,
                stream=stream,
            )
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: a body that is not JSON
            raise ChatModelError(f"{self.model} failed: {type(exc).__name__}: {exc}") from exc


def parse_json_object(text: str, model: str) -> dict[str, Any]:
    """The JSON object a model answered (code fences tolerated), or a ChatModelError."""
    body = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ChatModelError(f"{model} did not answer JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ChatModelError(f"{model} answered JSON that is not an object")
    return data


def completion_from_text(text: str, model: str, passages: int) -> Completion:
    """Strip inline [n] citations from the reply and keep them as passage indexes."""
    cited = [int(n) - 1 for n in CITATION.findall(text) if 0 < int(n) <= passages]
    clean = CITATION.sub("", text).strip()
    if not clean:
        raise ChatModelError(f"{model} returned an empty reply")
    return Completion(text=clean, model=model, passages=list(dict.fromkeys(cited)))
