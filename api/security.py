"""API keys: when keys are configured every /v1 route needs `Authorization: Bearer <key>`."""

from __future__ import annotations

import hmac

from fastapi import Request

from copilot.errors import UnauthorizedError


def require_api_key(request: Request) -> None:
    """Compare the bearer token with every key in constant time; no keys configured = open (loopback only)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    _check(request, token if scheme.lower() == "bearer" else "", "send 'Authorization: Bearer <key>'")


def require_webhook_key(request: Request) -> None:
    """Helpdesk webhooks cannot send headers: they put the key in the URL (`?api_key=...`)."""
    _check(request, request.query_params.get("api_key", ""), "add '?api_key=<key>' to the webhook URL")


def _check(request: Request, token: str, how: str) -> None:
    keys: list[str] = request.app.state.api_keys
    if not keys:
        return
    if not token:
        raise UnauthorizedError(f"missing API key: {how}")
    if not any(hmac.compare_digest(token.encode(), key.encode()) for key in keys):
        raise UnauthorizedError("wrong API key")
