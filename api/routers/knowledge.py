"""Searching and re-indexing the knowledge base."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CopilotDep

router = APIRouter(prefix="/knowledge", tags=["knowledge"])


class Passage(BaseModel):
    id: str = Field(description="Document id, used in citations.")
    title: str
    section: str = Field(description="Heading of the section the passage comes from.")
    kind: str
    score: float = Field(ge=0, le=1)
    text: str


class SearchResponse(BaseModel):
    query: str
    results: list[Passage]


class ReindexResponse(BaseModel):
    documents: int
    chunks: int
    embedded_chunks: int
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    seconds: float


@router.get("/search", response_model=SearchResponse)
def search(
    copilot: CopilotDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="Query, English or Vietnamese.")],
    platform: str | None = None,
    kind: str | None = None,
    step: str | None = None,
    language: str | None = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    per_document: Annotated[
        int, Query(ge=1, le=50, description="At most this many passages per document.")
    ] = 2,
) -> SearchResponse:
    """Ranked passages from playbooks and policies, filtered by platform, kind, step or language."""
    hits = copilot.search(
        q,
        k=k,
        mode=mode,
        per_document=per_document,
        platform=platform,
        kind=kind,
        step=step,
        language=language,
    )
    results = [
        Passage(id=h.chunk.doc_id, title=h.chunk.title, section=h.chunk.section, kind=h.chunk.kind,
                score=h.score, text=h.chunk.text)
        for h in hits
    ]
    return SearchResponse(query=q, results=results)


@router.post("/reindex", response_model=ReindexResponse)
def reindex(copilot: CopilotDep) -> ReindexResponse:
    """Re-read the knowledge folder and update the index; only changed documents are embedded again."""
    return ReindexResponse.model_validate(copilot.ingest().to_dict())


class PassageText(BaseModel):
    id: str
    title: str
    section: str
    text: str


@router.get("/passages", response_model=PassageText)
def passage(
    copilot: CopilotDep,
    id: Annotated[str, Query(min_length=1, max_length=128, description="Document id, as cited.")],
    section: Annotated[str, Query(min_length=1, max_length=300, description="Section heading, as cited.")],
) -> PassageText:
    """The full text of a cited section, for the agent to read the source."""
    return PassageText(**copilot.passage(id, section))
