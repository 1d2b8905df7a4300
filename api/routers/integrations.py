"""Helpdesk integrations: the Chatwoot Agent Bot webhook."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.chatwoot import ChatwootClient, ChatwootEvent

router = APIRouter(prefix="/integrations", tags=["integrations"])


@router.post("/chatwoot/webhook")
def chatwoot_webhook(event: ChatwootEvent, copilot: CopilotDep) -> dict[str, Any]:
    """Triage a customer's new message; with a Chatwoot URL and token configured, post the answer or the holding
    message and hand the conversation to a person (status `open`). Other events are acknowledged and ignored."""
    reason = event.ignored_because()
    if reason:
        return {"ignored": reason}
    result = copilot.triage(event.triage_request())
    settings = copilot.settings
    actions = ["none: Chatwoot is not configured"]
    if settings.chatwoot_url and settings.chatwoot_token:
        actions = ChatwootClient(settings.chatwoot_url, settings.chatwoot_token).act(event, result)
    return {"triage": result.model_dump(mode="json"), "actions": actions}
