"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CopilotDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(copilot: CopilotDep) -> dict[str, object]:
    """The knowledge index is loaded and searchable (503 with the reason otherwise)."""
    retriever = copilot.index.retriever()
    return {"status": "ready", "documents": len(copilot.knowledge.documents), "chunks": len(retriever.lexical.chunks)}
