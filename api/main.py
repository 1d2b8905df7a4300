"""App factory: build settings and the copilot per app, so tests can make as many apps as they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.routers import drafts, guardrails, health, knowledge
from copilot.core import Copilot
from copilot.settings import Settings


def create_app(settings: Settings | None = None, copilot: Copilot | None = None) -> FastAPI:
    """A ready-to-serve app; the index is built at start if it does not exist yet, and warmed up."""
    copilot = copilot or Copilot(settings or Settings.load())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(copilot.warm_up)
        yield

    app = FastAPI(title="Support copilot", version="0.1.0", lifespan=lifespan)
    app.state.copilot = copilot
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(knowledge.router, prefix="/v1")
    app.include_router(guardrails.router, prefix="/v1")
    app.include_router(drafts.router, prefix="/v1")
    return app
