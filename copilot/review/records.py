"""Conversations with time, as `copilot import FILE.jsonl` reads them: one conversation a line.

```json
{"id": "shopee-20261116-0001", "platform": "shopee", "customer": {"name": "Lan"}, "agent": {"name": "Minh"},
 "messages": [{"role": "customer", "text": "Hi ...", "at": "2026-11-16T08:02:00+07:00"},
              {"role": "agent", "author": "minh", "text": "Hi Lan ...", "at": "2026-11-16T08:05:00+07:00"}],
 "status": "resolved", "resolved_at": "2026-11-16T08:20:00+07:00", "rating": 5, "url": "https://..."}
```
Every message needs `at`; `author` (an agent's id or name) defaults to the conversation's `agent.name`.
`status` defaults to `resolved` when an agent wrote last, else `open`; `rating` is the review the customer
left on the marketplace (1 to 5); `url` is where the conversation opens in the helpdesk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.contracts import MAX_MESSAGES, Agent, Customer, Message
from copilot.errors import DatasetError


class ConversationRecord(BaseModel):
    """One conversation of an export (or of the Chatwoot webhook), with the time of every message."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    platform: str = Field(default="livechat", max_length=64)
    flow: str = Field(default="livechat", max_length=64)
    customer: Customer = Field(default_factory=Customer)
    agent: Agent = Field(default_factory=Agent)
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    status: Literal["open", "resolved"] | None = None
    resolved_at: datetime | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")

    @field_validator("messages")
    @classmethod
    def _timed(cls, messages: list[Message]) -> list[Message]:
        for number, message in enumerate(messages):
            if message.at is None:
                raise ValueError(f"message {number} has no `at`: the review needs the time of every message")
        return messages

    def digest(self) -> str:
        """Changes when anything in the conversation changes: an import of the same line stores nothing."""
        return hashlib.sha256(self.model_dump_json(exclude_none=True).encode()).hexdigest()


def read_records(path: Path) -> Iterator[tuple[int, ConversationRecord]]:
    """(line number, conversation) for every non-blank line; a bad line raises a DatasetError naming
    file:line and the field."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(path, 0, f"cannot be read ({exc.strerror})") from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, parse_record(path, number, line)
        except UnicodeDecodeError as exc:
            raise DatasetError(path, 0, f"not valid UTF-8 text ({exc.reason})") from exc


def parse_record(path: Path, number: int, line: str) -> ConversationRecord:
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
    try:
        return ConversationRecord.model_validate_json(line)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or None
        raise DatasetError(path, number, str(error["msg"]), where) from exc
