"""Chatwoot Agent Bot integration: triage each incoming message, then reply or hand over through Chatwoot's API.

Without a Chatwoot URL and token the webhook only returns the triage result (useful to try it out).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from copilot.contracts import MAX_TEXT, Customer, Message
from copilot.errors import CopilotError
from copilot.triage import TriageRequest, TriageResponse

CHANNELS = {"Channel::WebWidget": "livechat", "Channel::FacebookPage": "facebook", "Channel::Instagram": "instagram",
            "Channel::Email": "email", "Channel::Api": "livechat"}


class ChatwootError(CopilotError):
    """Chatwoot could not be reached or refused the call."""

    code = "chatwoot_unreachable"


class ChatwootEvent(BaseModel):
    """The part of an Agent Bot webhook payload the copilot uses; everything else is ignored."""

    model_config = ConfigDict(extra="ignore")

    event: str = Field(max_length=64)
    message_type: str | int | None = None
    content: str | None = Field(default=None, max_length=20_000)
    conversation: dict[str, Any] = Field(default_factory=dict)
    account: dict[str, Any] = Field(default_factory=dict)
    sender: dict[str, Any] = Field(default_factory=dict)

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
        if isinstance(ident, bool) or not isinstance(ident, int | str) or not re.fullmatch(r"[0-9]+", str(ident)):
            raise ValueError(f"id must be a Chatwoot id (a number), got {str(ident)[:40]!r}")
        return value

    def triage_request(self) -> TriageRequest:
        """The conversation as a triage request; malformed history entries are skipped, over-long ones cut."""
        messages = []
        history = self.conversation.get("messages")
        for item in history if isinstance(history, list) else []:
            kind, text = (item.get("message_type"), item.get("content")) if isinstance(item, dict) else (None, None)
            if isinstance(text, str) and text.strip() and kind in (0, 1, "incoming", "outgoing"):
                messages.append(Message(role="customer" if kind in (0, "incoming") else "agent",
                                        text=text.strip()[:MAX_TEXT]))
        if not messages or messages[-1].text != (self.content or "").strip():
            messages.append(Message(role="customer", text=(self.content or "").strip()))
        channel = str(self.conversation.get("channel", ""))
        return TriageRequest(platform=CHANNELS.get(channel, "livechat"), customer=Customer(name=self._sender_name()),
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
            response = httpx.post(url, json=body, headers={"api_access_token": self.token}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ChatwootError(f"cannot reach Chatwoot at {self.url}: {exc}") from exc
        if response.status_code >= 400:
            raise ChatwootError(f"Chatwoot answered {response.status_code} to {url.removeprefix(self.url)}")
