"""First-line triage for the chatbot."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.triage.contracts import TriageRequest, TriageResponse

router = APIRouter(tags=["triage"])


@router.post("/triage", response_model=TriageResponse)
def triage(request: TriageRequest, copilot: CopilotDep) -> TriageResponse:
    """Urgency, issue type, intent, sentiment, route and service level of a conversation; an answer from
    policy with citations when the bot can reply alone, otherwise `handoff: true` with a holding message."""
    return copilot.triage(request)
