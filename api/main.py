"""App factory: build settings and the copilot per app, so tests can make as many apps as they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.routers import (
    catalog,
    drafts,
    feedback,
    guardrails,
    health,
    integrations,
    knowledge,
    review,
    sidebar,
    triage,
)
from api.security import protect_logs, require_api_key, require_webhook_key
from copilot.core import Copilot
from copilot.settings import Settings


def create_app(settings: Settings | None = None, copilot: Copilot | None = None) -> FastAPI:
    """A ready-to-serve app; the index is built at start if it does not exist yet, and warmed up."""
    copilot = copilot or Copilot(settings or Settings.load())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(copilot.warm_up)
        yield

    protect_logs()
    app = FastAPI(title="Support copilot", version="0.1.0", lifespan=lifespan)
    app.state.copilot, app.state.api_keys = copilot, copilot.settings.keys()
    origins = [o.strip() for o in copilot.settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"])
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(sidebar.router)
    app.mount("/static", StaticFiles(directory=sidebar.STATIC), name="static")
    for router in (knowledge.router, guardrails.router, drafts.router, feedback.router, catalog.router,
                   triage.router, review.router):
        app.include_router(router, prefix="/v1", dependencies=[Depends(require_api_key)])
    app.include_router(integrations.router, prefix="/v1", dependencies=[Depends(require_webhook_key)])
    return app
