"""What the copilot knows about: platforms and flows (the sidebar draws the steps from here)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CopilotDep
from copilot.knowledge import DEFAULT_FLOW

router = APIRouter(tags=["catalog"])


class PlatformInfo(BaseModel):
    id: str
    title: str
    marketplace: bool
    chatwoot: list[str] = Field(default_factory=list, description="Chatwoot channel types of this platform")
    default: bool = Field(default=False, description="The platform of a helpdesk channel no platform names")


class StepInfo(BaseModel):
    id: str
    title: str
    review_ask: bool


class FlowInfo(BaseModel):
    id: str
    title: str
    steps: list[StepInfo]
    default: bool = Field(default=False, description="The flow of a request that names none")


@router.get("/platforms", response_model=list[PlatformInfo])
def platforms(copilot: CopilotDep) -> list[PlatformInfo]:
    """The channels of the knowledge base; marketplaces carry the marketplace chat rules."""
    knowledge = copilot.knowledge
    return [PlatformInfo(id=key, title=p.title, marketplace=p.marketplace, chatwoot=list(p.chatwoot),
                         default=key == knowledge.default_platform) for key, p in knowledge.platforms.items()]


@router.get("/flows", response_model=list[FlowInfo])
def flows(copilot: CopilotDep) -> list[FlowInfo]:
    """Every support flow with its steps in order."""
    return [
        FlowInfo(id=flow.id, title=flow.title, default=flow.id == DEFAULT_FLOW,
                 steps=[StepInfo(id=s.id, title=s.title, review_ask=s.review_ask) for s in flow.steps])
        for flow in copilot.knowledge.flows.values()
    ]
