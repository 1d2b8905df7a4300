"""Proposing the agent's next reply."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.contracts import DraftRequest, DraftResponse

router = APIRouter(prefix="/drafts", tags=["drafts"])


@router.post("", response_model=DraftResponse)
def create_draft(request: DraftRequest, copilot: CopilotDep) -> DraftResponse:
    """The next reply for the conversation: at the right flow step, in the customer's language, grounded in
    the knowledge base with citations, checked (and repaired) against the platform's rules."""
    return copilot.draft(request)
