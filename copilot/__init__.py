"""Support copilot: step-aware reply drafts grounded in a team's playbooks, with platform guardrails."""

from copilot.core import Copilot
from copilot.errors import CopilotError, DatasetError, IndexNotReadyError, InvalidRequestError, KnowledgeError
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.hybrid import SearchHit
from copilot.retrieval.vector_store import SearchFilter
from copilot.settings import Settings

__all__ = [
    "Copilot",
    "CopilotError",
    "DatasetError",
    "IndexNotReadyError",
    "InvalidRequestError",
    "KnowledgeBase",
    "KnowledgeError",
    "SearchFilter",
    "SearchHit",
    "Settings",
]
__version__ = "0.1.0"
