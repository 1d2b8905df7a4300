"""Errors the copilot raises on purpose: each one names what is wrong, so callers can show it as is."""

from __future__ import annotations

from pathlib import Path


class CopilotError(Exception):
    """Base of every error meant for a user; `code` is the machine-readable kind used by the API."""

    code = "copilot_error"


class KnowledgeError(CopilotError):
    """A file of the knowledge folder is missing, unreadable or malformed."""

    code = "invalid_knowledge"

    def __init__(self, path: Path | str, reason: str, field: str | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        where = f"{self.path}: field '{field}'" if field else self.path
        super().__init__(f"{where}: {reason}")


class InvalidRequestError(CopilotError):
    """A caller asked for something that does not exist (unknown platform, step, mode...)."""

    code = "invalid_request"


class NotFoundError(CopilotError):
    """What was asked for does not exist (a document section, a draft)."""

    code = "not_found"


class UnauthorizedError(CopilotError):
    """A missing or wrong API key."""

    code = "unauthorized"


class IndexNotReadyError(CopilotError):
    """The search index has not been built yet, or was built for another embedding model."""

    code = "index_not_ready"


class DatasetError(CopilotError):
    """A line of an evaluation dataset is malformed."""

    code = "invalid_dataset"

    def __init__(self, path: Path | str, line: int, reason: str, field: str | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        place = f"{path}:{line}" if line else str(path)  # line 0: the whole file
        where = place + (f": field '{field}'" if field else "")
        super().__init__(f"{where}: {reason}")
