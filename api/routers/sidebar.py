"""The agent sidebar: a static page served by the API (no build step), embeddable in a helpdesk."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["sidebar"])


@router.get("/sidebar", include_in_schema=False)
def sidebar() -> FileResponse:
    """The sidebar page; it calls this same API."""
    return FileResponse(STATIC / "sidebar.html", media_type="text/html")


@router.get("/review", include_in_schema=False)
def review_page() -> FileResponse:
    """The weekly review page; it calls /v1/review with the API key the sidebar keeps."""
    return FileResponse(STATIC / "review.html", media_type="text/html")
