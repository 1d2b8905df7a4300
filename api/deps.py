"""Dependencies as `Annotated` aliases, so tests override them with `app.dependency_overrides`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from copilot.core import Copilot


def get_copilot(request: Request) -> Copilot:
    copilot: Copilot = request.app.state.copilot
    return copilot


CopilotDep = Annotated[Copilot, Depends(get_copilot)]
