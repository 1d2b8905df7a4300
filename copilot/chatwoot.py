"""Chatwoot Agent Bot integration: triage each incoming message, then reply or hand over through Chatwoot's API.

Without a Chatwoot URL and token the webhook only returns the triage result (useful to try it out).
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from copilot.contracts import Customer, Message
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

    def triage_request(self) -> TriageRequest:
        messages = []
        for item in self.conversation.get("messages", []) or []:
            kind, text = item.get("message_type"), (item.get("content") or "").strip()
            if text and kind in (0, 1, "incoming", "outgoing"):
                messages.append(Message(role="customer" if kind in (0, "incoming") else "agent", text=text))
        if not messages or messages[-1].text != (self.content or "").strip():
            messages.append(Message(role="customer", text=(self.content or "").strip()))
        channel = str(self.conversation.get("channel", ""))
        name = (self.sender.get("name") or self.conversation.get("meta", {}).get("sender", {}).get("name") or None)
        return TriageRequest(platform=CHANNELS.get(channel, "livechat"), customer=Customer(name=name),
                             messages=messages[-50:])


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
