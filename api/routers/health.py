"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CopilotDep
from copilot.errors import IndexNotReadyError

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(copilot: CopilotDep) -> dict[str, object]:
    """The knowledge index is loaded and searchable and triage answers at once
    (503 with the reason otherwise)."""
    retriever = copilot.index.retriever()
    if not copilot.triage_ready:
        raise IndexNotReadyError("the triage model is being prepared")
    return {
        "status": "ready",
        "documents": len(copilot.knowledge.documents),
        "chunks": len(retriever.lexical.chunks),
        "triage": "ready",
    }
