"""API keys: when keys are configured every /v1 route needs `Authorization: Bearer <key>`. Keys and customer
text stay out of the logs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from fastapi import Request

from copilot.errors import UnauthorizedError

# Query parameters whose values never reach a log line: the webhook's key, and search text (often the
# customer's).
SECRET_QUERY = re.compile(r"((?:^|[?&])(?:api_key|access_token|token|q)=)[^&\s\"]*", re.IGNORECASE)


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
    # Digests have one length, so neither the key's length nor which key matched shows in the time taken.
    given = hashlib.sha256(token.encode()).digest()
    matches = [hmac.compare_digest(given, hashlib.sha256(key.encode()).digest()) for key in keys]
    if not any(matches):
        raise UnauthorizedError("wrong API key")


class RedactQuerySecrets(logging.Filter):
    """Access-log lines carry the query string: the values of secret parameters are replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(SECRET_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True


class DropRequestBodies(logging.Filter):
    """The OpenAI SDK logs each request's JSON (the conversation) at debug level: those lines are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Request options")


def protect_logs() -> None:
    """Install the filters once per process,
    on the loggers that would otherwise write keys or customer text."""
    for name, kind in (("uvicorn.access", RedactQuerySecrets), ("openai._base_client", DropRequestBodies)):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, kind) for existing in logger.filters):
            logger.addFilter(kind())
