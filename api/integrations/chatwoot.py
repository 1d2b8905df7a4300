"""Chatwoot Agent Bot integration: triage each incoming message,
then reply or hand over through Chatwoot's API.

Without a Chatwoot URL and token the webhook only returns the triage result (useful to try it out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.contracts import MAX_TEXT, Customer, Message
from copilot.errors import CopilotError
from copilot.review.conversations import IncomingMessage
from copilot.triage.contracts import TriageRequest, TriageResponse

PlatformOf = Callable[[str], str]  # a Chatwoot channel type -> the knowledge base's platform


class ChatwootError(CopilotError):
    """Chatwoot could not be reached or refused the call."""

    code = "chatwoot_unreachable"


class ChatwootEvent(BaseModel):
    """The part of an Agent Bot webhook payload the copilot uses; everything else is ignored."""

    model_config = ConfigDict(extra="ignore")

    event: str = Field(max_length=64)
    id: int | str | None = None
    message_type: str | int | None = None
    content: str | None = Field(default=None, max_length=20_000)
    created_at: str | int | float | None = None
    private: bool = False
    status: str | None = Field(default=None, max_length=32)
    timestamp: int | float | None = None
    conversation: dict[str, Any] = Field(default_factory=dict)
    account: dict[str, Any] = Field(default_factory=dict)
    sender: dict[str, Any] = Field(default_factory=dict)
    messages: list[Any] = Field(default_factory=list, max_length=500)

    def ignored_because(self) -> str | None:
        if self.event != "message_created":
            return f"event '{self.event}' is not a new message"
        if self.message_type not in ("incoming", 0):
            return "not a message from the customer"
        if not (self.content or "").strip():
            return "the message has no text"
        if "id" not in self.conversation or "id" not in self.account:
            return "the payload has no conversation or account id"
        return None

    @field_validator("conversation", "account")
    @classmethod
    def _numeric_id(cls, value: dict[str, Any]) -> dict[str, Any]:
        """The ids go into Chatwoot API paths: a number only, never a path like `1/../../admin`."""
        ident = value.get("id", 0)
        if (
            isinstance(ident, bool)
            or not isinstance(ident, int | str)
            or not re.fullmatch(r"[0-9]+", str(ident))
        ):
            raise ValueError(f"id must be a Chatwoot id (a number), got {str(ident)[:40]!r}")
        return value

    def stored_message(self, platform_of: PlatformOf, chatwoot_url: str = "") -> IncomingMessage | None:
        """The message as the weekly review keeps it: a customer's (incoming) or a reply (outgoing; the Agent
        Bot's own are automatic), never a private note; None for anything else. `platform_of` reads the
        conversation's channel (`KnowledgeBase.chatwoot_platform`)."""
        kinds: dict[object, str] = {"incoming": "customer", 0: "customer", "outgoing": "agent", 1: "agent"}
        kind = kinds.get(self.message_type)
        text = (self.content or "").strip()
        if self.event != "message_created" or kind is None or self.private or not text or self.id is None:
            return None
        if "id" not in self.conversation or "id" not in self.account:
            return None
        bot = self.sender.get("type") == "agent_bot"
        name = self.sender.get("name") if isinstance(self.sender.get("name"), str) else None
        author = (
            "bot" if bot else (name or str(self.sender.get("id", "")) or None) if kind == "agent" else None
        )
        status = self.conversation.get("status")
        return IncomingMessage(
            conversation=self.conversation_key(self.conversation["id"]),
            external_id=str(self.id)[:64],
            role=kind,
            text=text[:MAX_TEXT],
            at=_moment(self.created_at),
            author=author[:100] if author else None,
            platform=platform_of(str(self.conversation.get("channel", ""))),
            customer=self._sender_name() if kind == "customer" else None,
            status=status if isinstance(status, str) else None,
            link=self.link(chatwoot_url, self.conversation["id"]),
        )

    def status_change(self) -> tuple[str, str, datetime] | None:
        """(conversation key, new status, when) of a `conversation_status_changed` event, else None."""
        if self.event != "conversation_status_changed" or self.id is None or self.status is None:
            return None
        account = self.account.get("id") or next(
            (m.get("account_id") for m in self.messages if isinstance(m, dict) and m.get("account_id")), None
        )
        if (
            account is None
            or not re.fullmatch(r"[0-9]+", str(account))
            or not re.fullmatch(r"[0-9]+", str(self.id))
        ):
            return None
        return f"{account}:{self.id}", self.status, _moment(self.timestamp)

    def conversation_key(self, conversation: object) -> str:
        """A conversation's id in the store: Chatwoot's ids are per account."""
        return f"{self.account['id']}:{conversation}"

    def link(self, chatwoot_url: str, conversation: object) -> str | None:
        """Where the conversation opens in Chatwoot's dashboard, when its URL is configured."""
        if not chatwoot_url:
            return None
        return f"{chatwoot_url.rstrip('/')}/app/accounts/{self.account['id']}/conversations/{conversation}"

    def triage_request(self, platform_of: PlatformOf) -> TriageRequest:
        """The conversation as a triage request; malformed history entries are skipped, over-long ones cut."""
        messages = []
        history = self.conversation.get("messages")
        for item in history if isinstance(history, list) else []:
            kind, text = (
                (item.get("message_type"), item.get("content")) if isinstance(item, dict) else (None, None)
            )
            if isinstance(text, str) and text.strip() and kind in (0, 1, "incoming", "outgoing"):
                messages.append(Message(role="customer" if kind in (0, "incoming") else "agent",
                                        text=text.strip()[:MAX_TEXT]))
        if not messages or messages[-1].text != (self.content or "").strip():
            messages.append(Message(role="customer", text=(self.content or "").strip()))
        channel = str(self.conversation.get("channel", ""))
        return TriageRequest(platform=platform_of(channel), customer=Customer(name=self._sender_name()),
                             messages=messages[-50:])

    def _sender_name(self) -> str | None:
        meta = self.conversation.get("meta")
        meta_sender = meta.get("sender") if isinstance(meta, dict) else None
        for sender in (self.sender, meta_sender):
            name = sender.get("name") if isinstance(sender, dict) else None
            if isinstance(name, str) and name.strip():
                return name.strip()[:100]
        return None


class ChatwootClient:
    """Posts the bot's reply, or a holding message and the hand-over (status `open`), to Chatwoot."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def act(self, event: ChatwootEvent, result: TriageResponse) -> list[str]:
        base = f"{self.url}/api/v1/accounts/{event.account['id']}/conversations/{event.conversation['id']}"
        if result.auto_reply is not None:
            self._post(f"{base}/messages", {"content": result.auto_reply.text, "message_type": "outgoing"})
            return ["replied"]
        if result.holding_message:
            self._post(f"{base}/messages", {"content": result.holding_message, "message_type": "outgoing"})
        self._post(f"{base}/toggle_status", {"status": "open"})
        return ["sent holding message", "handed over to a person"]

    def _post(self, url: str, body: dict[str, Any]) -> None:
        try:
            response = httpx.post(
                url, json=body, headers={"api_access_token": self.token}, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise ChatwootError(f"cannot reach Chatwoot at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            raise ChatwootError(f"Chatwoot answered {response.status_code} to {url.removeprefix(self.url)}")


def _moment(value: str | int | float | None) -> datetime:
    """Chatwoot's times: ISO 8601 (`...Z`), `2020-03-03 13:05:57 UTC`, or seconds since the epoch; now if
    absent or unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip().removesuffix(" UTC") + ("+00:00" if value.strip().endswith(" UTC") else "")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return datetime.now(UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
