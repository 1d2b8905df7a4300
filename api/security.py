"""API keys: when keys are configured every /v1 route needs `Authorization: Bearer <key>`."""

from __future__ import annotations

import hmac

from fastapi import Request

from copilot.errors import UnauthorizedError


def require_api_key(request: Request) -> None:
    """Compare the bearer token with every key in constant time; no keys configured = open (loopback only)."""
    keys: list[str] = request.app.state.api_keys
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("missing API key: send 'Authorization: Bearer <key>'")
    if not any(hmac.compare_digest(token.encode(), key.encode()) for key in keys):
        raise UnauthorizedError("wrong API key")
