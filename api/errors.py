"""Every error leaves as `{"error": {"code", "message"}}` with a 4xx (or 503 while not ready), never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.integrations.chatwoot import ChatwootError
from copilot.errors import CopilotError, IndexNotReadyError, KnowledgeError, NotFoundError, UnauthorizedError
from copilot.store import StoreError

STATUS = {IndexNotReadyError: 503, KnowledgeError: 422, NotFoundError: 404, UnauthorizedError: 401,
          StoreError: 503, ChatwootError: 502}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CopilotError)
    async def copilot_error(request: Request, exc: CopilotError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return error_response(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            if error["type"] == "json_invalid":
                problems.append(
                    f"the body is not valid JSON: {error['ctx']['error']} at character {error['loc'][-1]}"
                )
                continue
            where = ".".join(str(part) for part in error["loc"] if part != "body") or "request"
            problems.append(f"{where}: {error['msg']}")
        return error_response(422, "invalid_request", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's JSON parsing hit Python's nesting limit
            return error_response(400, "invalid_request", "the body is not valid JSON: nested too deeply")
        return error_response(exc.status_code, "http_error", str(exc.detail))
