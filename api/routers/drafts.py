"""Proposing the agent's next reply, whole or streamed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CopilotDep
from copilot.contracts import DraftRequest, DraftResponse
from copilot.core import Copilot
from copilot.errors import CopilotError
from copilot.feedback import FeedbackStoreError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/drafts", tags=["drafts"])


@router.post("", response_model=DraftResponse)
def create_draft(request: DraftRequest, copilot: CopilotDep) -> DraftResponse:
    """The next reply for the conversation: at the right flow step, in the customer's language, grounded in
    the knowledge base with citations, checked (and repaired) against the platform's rules."""
    response = copilot.draft(request)
    _record(copilot, request, response)
    return response


@router.post("/stream")
def stream_draft(request: DraftRequest, copilot: CopilotDep) -> StreamingResponse:
    """The same draft as Server-Sent Events: `delta` events with text as it is written, then one `final` event
    with the whole response (its `draft` replaces the streamed text: a repair may have changed it)."""
    copilot.validate_draft(request)
    return StreamingResponse(_events(copilot, request), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


def _events(copilot: Copilot, request: DraftRequest) -> Iterator[str]:
    try:
        for kind, payload in copilot.drafter.stream(request):
            if isinstance(payload, DraftResponse):
                _record(copilot, request, payload)
                yield _event(kind, payload.model_dump_json())
            else:
                yield _event(kind, json.dumps({"text": payload}, ensure_ascii=False))
    except CopilotError as exc:
        yield _event(
            "error", json.dumps({"error": {"code": exc.code, "message": str(exc)}}, ensure_ascii=False)
        )


def _record(copilot: Copilot, request: DraftRequest, response: DraftResponse) -> None:
    """Keep the draft for feedback; a store that is locked or damaged costs the feedback, never the draft."""
    try:
        copilot.feedback.record_draft(request, response)
    except FeedbackStoreError as exc:
        log.warning("draft %s served but not stored for feedback: %s", response.draft_id, exc)


def _event(kind: str, data: str) -> str:
    return f"event: {kind}\ndata: {data}\n\n"
