"""The knowledge folder as one validated object: platforms, flows and documents.

Everything the copilot knows about a business lives in this folder; loading checks every file and stops
at the first problem with the file, the field and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.compose.slots import LANGUAGE_FILE, SlotWords
from copilot.errors import InvalidRequestError, KnowledgeError
from copilot.flow.flows import IDENTIFIER, Flow, FlowExamples, load_flow_examples, load_flows
from copilot.retrieval.documents import KnowledgeDocument, check_vocabulary, load_documents
from copilot.retrieval.search_words import SearchWords
from copilot.text import fold
from copilot.understand.pii import AddressWords
from copilot.yamlio import load_yaml_mapping, validate_model

DEFAULT_FLOW = "livechat"
SECTIONS_FILE = "sections.yaml"
SKIPPED_MARKDOWN = {"readme.md"}


class Platform(BaseModel):
    """A channel the team answers on; marketplaces carry extra chat rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    marketplace: bool = False
    language: Literal["en", "vi"] | None = Field(
        default=None, description="Usual language: a detection prior."
    )
    chatwoot: tuple[str, ...] = Field(
        default=(),
        description="Chatwoot channel types (`Channel::WebWidget`) whose conversations are on this platform.",
    )


class Sections(BaseModel):
    """Which sections of a document a draft may send (`sections.yaml`): a heading that starts with a `reply`
    word holds lines written to customers; a heading that contains a `forbidden` word ("don't say") is never
    sent. Compared folded (lower case, no diacritics, straight apostrophes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reply: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    # a heading that starts with one of these holds an answer unit's question, asked before its reply
    ask: tuple[str, ...] = ()

    @cached_property
    def _folded(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The reply, forbidden and ask words folded, once."""
        def folded(words: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(map(_heading, words))

        return folded(self.reply), folded(self.forbidden), folded(self.ask)

    def sendable(self, heading: str) -> bool:
        """A reply or example-lines heading, not a "don't say" one."""
        return self._starts(heading, self._folded[0])

    def asking(self, heading: str) -> bool:
        """An answer unit's ask-first heading: the details to ask before the reply ("## Ask first")."""
        return self._starts(heading, self._folded[2])

    def _starts(self, heading: str, words: tuple[str, ...]) -> bool:
        folded = _heading(heading)
        return any(folded.startswith(word) for word in words) and not self.never(heading)

    def never(self, heading: str) -> bool:
        """A "don't say" heading (anywhere in a path of headings)."""
        folded = _heading(heading)
        return any(word in folded for word in self._folded[1])


def _heading(text: str) -> str:
    return " ".join(fold(text.replace("’", "'")).split())


class PlatformTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    platforms: dict[str, Platform] = Field(min_length=1)
    default: str | None = Field(
        default=None,
        description="The platform of a helpdesk conversation whose channel "
        "no platform names (default: the first listed).",
    )


@dataclass(frozen=True)
class KnowledgeBase:
    """Platforms, flows and documents of one knowledge folder."""

    root: Path
    platforms: dict[str, Platform]
    flows: dict[str, Flow]
    documents: list[KnowledgeDocument]
    examples: dict[str, FlowExamples] = field(default_factory=dict)  # labelled conversations by flow
    # a helpdesk conversation's platform when its channel is not named (platforms.yaml)
    default_platform: str = ""
    # the sections a draft may send and those it never sends (sections.yaml)
    sections: Sections = field(default_factory=Sections)
    slot_words: SlotWords = field(default_factory=SlotWords)  # what a missing slot leaves (language.yaml)
    address_words: AddressWords = field(default_factory=AddressWords)  # what PII masking reads as an address
    search_words: SearchWords = field(default_factory=SearchWords)  # what keyword search and cues read

    @classmethod
    def load(cls, root: Path) -> KnowledgeBase:
        if not root.is_dir():
            raise KnowledgeError(
                root, "knowledge folder not found (set --knowledge or COPILOT_KNOWLEDGE_DIR)"
            )
        platforms, default_platform = _load_platforms(root / "platforms.yaml")
        language_path = root / LANGUAGE_FILE  # read once for the slot, address and search words
        language = load_yaml_mapping(language_path) if language_path.exists() else {}
        search_words = SearchWords.of(language, language_path)
        flows = load_flows(root / "flows", search_words.shorthand) if (root / "flows").is_dir() else {}
        examples = load_flow_examples(root / "flows", flows) if (root / "flows").is_dir() else {}
        if DEFAULT_FLOW not in flows:
            raise KnowledgeError(root / "flows", f"the default flow '{DEFAULT_FLOW}.yaml' is missing")
        step_ids = {step.id for flow in flows.values() for step in flow.steps}
        documents = load_documents(markdown_files(root))
        for document in documents:
            check_vocabulary(document, platforms, step_ids)
        return cls(root=root, platforms=platforms, flows=flows, documents=documents, examples=examples,
                   default_platform=default_platform, sections=_load_sections(root / SECTIONS_FILE),
                   slot_words=SlotWords.of(language, language_path),
                   address_words=AddressWords.of(language, language_path), search_words=search_words)

    def resolve(self, platform: str, flow: str, step: str | None = None) -> Flow:
        """The flow, after checking that the platform, the flow and the step exist; unknown values are
        named."""
        if platform not in self.platforms:
            raise InvalidRequestError(
                f"unknown platform '{platform}'; known: {', '.join(sorted(self.platforms))}"
            )
        if flow not in self.flows:
            raise InvalidRequestError(f"unknown flow '{flow}'; known: {', '.join(sorted(self.flows))}")
        steps = self.flows[flow].step_ids
        if step is not None and step not in steps:
            raise InvalidRequestError(f"unknown step '{step}' for flow '{flow}'; known: {', '.join(steps)}")
        return self.flows[flow]

    def marketplaces(self) -> set[str]:
        return {name for name, platform in self.platforms.items() if platform.marketplace}

    def chatwoot_platform(self, channel: str) -> str:
        """The platform of a Chatwoot conversation on `channel` (`Channel::Email`): the one whose `chatwoot`
        list names it, else the default platform."""
        named = (name for name, platform in self.platforms.items() if channel in platform.chatwoot)
        return next(named, self.default_platform or next(iter(self.platforms)))


def markdown_files(root: Path) -> list[Path]:
    """The Markdown documents under `root`, in a stable order, skipping README files."""
    return sorted(path for path in root.rglob("*.md") if path.name.lower() not in SKIPPED_MARKDOWN)


def _load_sections(path: Path) -> Sections:
    """The sendable and never-sent headings; none (drafts use templates) without the file."""
    return validate_model(Sections, load_yaml_mapping(path), path) if path.exists() else Sections()


def _load_platforms(path: Path) -> tuple[dict[str, Platform], str]:
    """The platforms and the default one; an id, a default or a Chatwoot channel named twice is named."""
    if not path.exists():
        raise KnowledgeError(path, "missing: the knowledge folder must list its platforms in platforms.yaml")
    table = validate_model(PlatformTable, load_yaml_mapping(path), path)
    owners: dict[str, str] = {}
    for name, platform in table.platforms.items():
        if not IDENTIFIER.match(name):
            reason = "platform ids must be lower-case letters, digits, '_' or '-'"
            raise KnowledgeError(path, reason, field=f"platforms.{name}")
        for channel in platform.chatwoot:
            if channel in owners:
                raise KnowledgeError(path, f"'{channel}' is already the channel of '{owners[channel]}'",
                                     field=f"platforms.{name}.chatwoot")
            owners[channel] = name
    if table.default is not None and table.default not in table.platforms:
        raise KnowledgeError(path, f"'{table.default}' is not one of the platforms above", field="default")
    return table.platforms, table.default or next(iter(table.platforms))
