"""Agents' verdicts on drafts, and the acceptance statistics built from them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.feedback import FeedbackRequest

router = APIRouter(tags=["feedback"])


@router.post("/feedback")
def feedback(request: FeedbackRequest, copilot: CopilotDep) -> dict[str, Any]:
    """Store what the agent did with a draft: accepted, edited (with the text sent) or rejected."""
    return copilot.feedback.record_feedback(request)


@router.get("/stats")
def stats(copilot: CopilotDep) -> dict[str, Any]:
    """Acceptance, edit and rejection rates overall, per flow step and per platform."""
    return copilot.feedback.stats()
