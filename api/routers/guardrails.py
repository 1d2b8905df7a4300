"""Checking any text (a draft or an agent's own reply) against the platform and flow rules."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.contracts import GuardrailRequest
from copilot.guardrails.models import CheckResult

router = APIRouter(prefix="/guardrails", tags=["guardrails"])


@router.post("/check", response_model=CheckResult)
def check(request: GuardrailRequest, copilot: CopilotDep) -> CheckResult:
    """Violations of the rule packs for this platform, flow and step; `allowed` is false when one blocks."""
    return copilot.check(request)
