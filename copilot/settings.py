"""Where the copilot reads its knowledge, keeps its index and which components it uses.

Values come from keyword arguments first, then `COPILOT_*` environment variables, then defaults, so the
CLI, the API factory and tests can each build their own settings without touching global state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from copilot.errors import CopilotError

_ENV = {
    "knowledge_dir": "COPILOT_KNOWLEDGE_DIR",
    "index_dir": "COPILOT_INDEX_DIR",
    "data_dir": "COPILOT_DATA_DIR",
    "embedding_model": "COPILOT_EMBEDDING_MODEL",
    "chroma_url": "COPILOT_CHROMA_URL",
    "llm_base_url": "COPILOT_LLM_BASE_URL",
    "llm_model": "COPILOT_LLM_MODEL",
    "llm_api_key": "COPILOT_LLM_API_KEY",
    "llm_timeout": "COPILOT_LLM_TIMEOUT",
    "api_keys": "COPILOT_API_KEYS",
    "api_keys_file": "COPILOT_API_KEYS_FILE",
    "cors_origins": "COPILOT_CORS_ORIGINS",
    "chatwoot_url": "COPILOT_CHATWOOT_URL",
    "chatwoot_token": "COPILOT_CHATWOOT_TOKEN",
    "pii_masking": "COPILOT_PII_MASKING",
    "feedback_timeout": "COPILOT_FEEDBACK_TIMEOUT",
    "database_url": "COPILOT_DATABASE_URL",
}


class Settings(BaseModel):
    """Runtime configuration of one copilot instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    knowledge_dir: Path = Field(default=Path("knowledge"), description="Folder with documents, flows, rules.")
    index_dir: Path = Field(default=Path(".copilot/index"), description="Where the search index is kept.")
    data_dir: Path = Field(default=Path(".copilot/data"), description="Feedback store and other state.")
    embedding_model: str = Field(
        default="", description="A sentence-transformers model path or name; empty = the packaged model."
    )
    chroma_url: str = Field(default="", description="URL of a Chroma server; empty = embedded Chroma.")
    llm_base_url: str = Field(
        default="", description="OpenAI-compatible endpoint; empty = the local composer."
    )
    llm_model: str = Field(default="", description="Model name at that endpoint.")
    llm_api_key: str = Field(default="", repr=False, description="API key for the endpoint, if it needs one.")
    llm_timeout: float = Field(default=20.0, gt=0, le=300, description="Seconds before an LLM call gives up.")

    api_keys: str = Field(default="", repr=False, description="Comma-separated API keys; empty = no auth.")
    api_keys_file: Path | None = Field(default=None, description="A file with one API key per line.")
    cors_origins: str = Field(default="", description="Comma-separated origins allowed to call the API.")
    chatwoot_url: str = Field(default="", description="Chatwoot base URL for the Agent Bot integration.")
    chatwoot_token: str = Field(default="", repr=False, description="The Agent Bot's access token.")
    pii_masking: bool = Field(
        default=True, description="Mask phones, emails, cards, addresses before an LLM call."
    )
    feedback_timeout: float = Field(
        default=10.0, gt=0, le=300,
        description="Seconds a feedback write waits for a database locked elsewhere.",
    )
    database_url: str = Field(
        default="", repr=False,
        description="A postgresql:// URL shared by every replica; "
        "empty = the SQLite file feedback.sqlite3 in the data folder.",
    )

    def keys(self) -> list[str]:
        """Every configured API key, from `api_keys` and the keys file (blank lines and # comments
        skipped)."""
        keys = [key.strip() for key in self.api_keys.split(",") if key.strip()]
        if self.api_keys_file is not None:
            try:
                lines = self.api_keys_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                reason = f"API keys file {self.api_keys_file}: cannot be read ({exc.strerror})"
                raise CopilotError(reason) from exc
            keys += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        return keys

    @property
    def database(self) -> str | Path:
        """Where drafts, feedback and conversations are kept: the URL, or the data folder's SQLite file."""
        return self.database_url or self.data_dir / "feedback.sqlite3"

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Settings from explicit overrides (None values ignored), then the environment, then defaults."""
        values: dict[str, Any] = {}
        for name, env_name in _ENV.items():
            if os.environ.get(env_name):
                values[name] = os.environ[env_name]
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)
