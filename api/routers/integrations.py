"""Helpdesk integrations: the Chatwoot Agent Bot webhook."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from api.deps import CopilotDep
from api.integrations.chatwoot import ChatwootClient, ChatwootEvent
from copilot.core import Copilot
from copilot.store import StoreError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/integrations", tags=["integrations"])


@router.post("/chatwoot/webhook")
def chatwoot_webhook(event: ChatwootEvent, copilot: CopilotDep) -> dict[str, Any]:
    """Keep every message of the conversation for the weekly review (customers' and agents', with their time
    and author; a status change too); then triage a customer's new message and, with a Chatwoot URL and token
    configured, post the answer or the holding message and hand the conversation to a person (status `open`).
    Other events are acknowledged and ignored. A store that is down costs the review, never the reply."""
    stored = _store(event, copilot)
    reason = event.ignored_because()
    if reason:
        return {"ignored": reason, "stored": stored}
    result = copilot.triage(event.triage_request(copilot.knowledge.chatwoot_platform))
    settings = copilot.settings
    actions = ["none: Chatwoot is not configured"]
    if settings.chatwoot_url and settings.chatwoot_token:
        actions = ChatwootClient(settings.chatwoot_url, settings.chatwoot_token).act(event, result)
    return {"triage": result.model_dump(mode="json"), "actions": actions, "stored": stored}


def _store(event: ChatwootEvent, copilot: Copilot) -> bool:
    try:
        message = event.stored_message(copilot.knowledge.chatwoot_platform, copilot.settings.chatwoot_url)
        if message is not None:
            return copilot.importer.record_message(message)
        change = event.status_change()
        return change is not None and copilot.importer.record_status(*change)
    except StoreError as exc:
        log.warning("Chatwoot event not stored for the review: %s", exc)
        return False
