"""The `Copilot` facade: one object per process that the CLI, the API and the eval runner share."""

from __future__ import annotations

import threading
from typing import Any

from copilot.compose.base import ChatModel
from copilot.compose.breaker import GuardedChatModel
from copilot.compose.openai_chat import OpenAIChatModel
from copilot.contracts import DraftRequest, DraftResponse, GuardrailRequest, Message
from copilot.drafter import Drafter
from copilot.errors import InvalidRequestError, NotFoundError
from copilot.feedback import FeedbackStore, FeedbackStoreError
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import CheckResult
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.embedders import Embedder
from copilot.retrieval.hybrid import MODES, Mode, SearchHit
from copilot.retrieval.index import IngestReport, KnowledgeIndex, ProgressCallback
from copilot.retrieval.vector_store import SearchFilter, VectorStore
from copilot.review.analysis import ConversationAnalyser
from copilot.review.config import FILE as REVIEW_FILE
from copilot.review.config import ReviewConfig
from copilot.review.conversations import ConversationImporter
from copilot.review.period import Period
from copilot.review.report import ReviewQuery, WeeklyReview
from copilot.review.store import ConversationStore
from copilot.settings import Settings
from copilot.store import Database, StoreError
from copilot.triage.config import TriageConfig
from copilot.triage.contracts import TriageRequest, TriageResponse
from copilot.triage.engine import TriageEngine
from copilot.triage.model import EXAMPLES_DIR, load_examples
from copilot.understand.understanding import NeedReading, Understander

MAX_PAGE = 10_000
UPSET = 0.5  # the triage model's probability of a negative tone above which a reply opens with empathy


class Copilot:
    """Loads the knowledge folder and its index once, and answers searches over them."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        model: ChatModel | None = None,
    ) -> None:
        self.settings = settings or Settings.load()
        self.index = KnowledgeIndex(self.settings, embedder=embedder, store=store)
        self._knowledge: KnowledgeBase | None = None
        self._guardrails: GuardrailEngine | None = None
        self._drafter: Drafter | None = None
        self._feedback: FeedbackStore | None = None
        self._database: Database | None = None
        self._review_config: ReviewConfig | None = None
        self._importer: ConversationImporter | None = None
        self._database_lock = threading.Lock()
        self._triage: TriageEngine | None = None
        self._understander: Understander | None = None
        self._model = model
        self._lock = threading.Lock()

    @property
    def knowledge(self) -> KnowledgeBase:
        if self._knowledge is None:
            self._knowledge = KnowledgeBase.load(self.settings.knowledge_dir)
        return self._knowledge

    @property
    def guardrails(self) -> GuardrailEngine:
        if self._guardrails is None:
            self._guardrails = GuardrailEngine.from_knowledge(self.knowledge)
        return self._guardrails

    def ingest(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Reload the knowledge folder (validating every file, rule packs too) and bring the index up to
        date."""
        with self._lock:
            knowledge = KnowledgeBase.load(self.settings.knowledge_dir)
            guardrails = GuardrailEngine.from_knowledge(knowledge)
            if (knowledge.root / "triage.yaml").exists():
                config = TriageConfig.load(knowledge.root / "triage.yaml")
                load_examples(knowledge.root / EXAMPLES_DIR, config.intents)
            if (knowledge.root / REVIEW_FILE).exists():
                ReviewConfig.load(knowledge.root)
            report = self.index.ingest(knowledge, progress)
            # validates the answer units and examples before anything is swapped
            Understander(knowledge, None)
            serving_triage, serving_drafts = self._triage is not None, self._drafter is not None
            self._knowledge, self._guardrails, self._drafter, self._triage = knowledge, guardrails, None, None
            self._understander = self._review_config = self._importer = None
        if serving_drafts:  # a reindex while serving: the flows' step models and triage stay ready
            self.drafter.prepare()
        if serving_triage:
            self.prepare_triage()
        return report

    @property
    def drafter(self) -> Drafter:
        if self._drafter is None:
            self._drafter = Drafter(self.knowledge, self.index, self.guardrails, self.index.embedder,
                                    self.chat_model(), mask_pii=self.settings.pii_masking,
                                    understander=self.understander,
                                    cache_dir=self.settings.index_dir / "flows")
        return self._drafter

    @property
    def understander(self) -> Understander:
        """The understanding stage shared by drafts and triage: the answer selector is fitted once per
        knowledge base, its example vectors kept in the index folder."""
        if self._understander is None:
            self._understander = Understander(self.knowledge, self.index.embedder,
                                              cache_dir=self.settings.index_dir / "answers", needs=self._need)
        return self._understander

    def _need(self, text: str) -> NeedReading | None:
        """The triage model's reading of the customer's words: the need (intent) and whether they are
        upset; None for a folder without `triage.yaml` (the answer selector alone reads the need)."""
        if not (self.knowledge.root / "triage.yaml").exists():
            return None
        readings = self.triager.model.read(text)
        intent, sentiment = readings.get("intent"), readings.get("sentiment")
        if intent is None:
            return None
        upset = sentiment is not None and sentiment.label == "negative" and sentiment.probability >= UPSET
        return NeedReading(intent.label, intent.probability, upset)

    def chat_model(self) -> ChatModel | None:
        """The configured LLM, or None for the local composer."""
        if self._model is None and self.settings.llm_configured:
            settings = self.settings
            endpoint = OpenAIChatModel(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                                       timeout=settings.llm_timeout)
            self._model = GuardedChatModel(endpoint)
        return self._model

    def open_database(self, error: type[StoreError] = StoreError) -> Database:
        """The one database of this process (opened, and migrated, at first use); an open that fails raises
        `error` and is tried again at the next call."""
        with self._database_lock:
            if self._database is None:
                self._database = Database(self.settings.database, self.settings.feedback_timeout, error)
            return self._database

    @property
    def database(self) -> Database:
        return self.open_database()

    @property
    def review_config(self) -> ReviewConfig:
        """`knowledge/review.yaml`: targets, business hours, reasons and promises of the weekly review."""
        if self._review_config is None:
            self._review_config = ReviewConfig.load(self.knowledge.root)
        return self._review_config

    @property
    def importer(self) -> ConversationImporter:
        """Stores conversations with time (an export, or the Chatwoot webhook), each analysed once: triage
        with the local model, QA of the human agents' messages, the service-level clock."""
        if self._importer is None:
            analyser = ConversationAnalyser(self.knowledge, self.review_config, self.triager, self.guardrails,
                                            self.index.embedder, self.drafter.tracker)
            self._importer = ConversationImporter(analyser, ConversationStore(self.database))
        return self._importer

    def weekly_review(self, since: str = "7d", until: str | None = None, channel: str | None = None,
                      agent: str | None = None, page: int = 1, now: float | None = None) -> dict[str, Any]:
        """The team lead's weekly review of the stored conversations (see `copilot.review.report`)."""
        config = self.review_config
        if channel is not None and channel not in self.knowledge.platforms:
            known = ", ".join(self.knowledge.platforms)
            raise InvalidRequestError(f"unknown channel '{channel}'; known: {known}")
        if not 1 <= page <= MAX_PAGE:
            raise InvalidRequestError(f"page must be between 1 and {MAX_PAGE}, got {page}")
        if agent is not None:
            _name("agent", agent, 100)
        triage_file = self.knowledge.root / "triage.yaml"
        answer_step = TriageConfig.load(triage_file).answer_step if triage_file.exists() else ""
        query = ReviewQuery(Period.parse(since, until, config.zone, now), channel, agent, page)
        return WeeklyReview(self.database, config, answer_step, self.index.embedder).build(query)

    def stored_conversation(self, source: str, external_id: str) -> dict[str, Any]:
        """One stored conversation with its messages and analysis (what a review's list links to)."""
        _name("source", source, 16)
        _name("id", external_id, 200)
        found = ConversationStore(self.database).transcript(source, external_id)
        if found is None:
            raise NotFoundError(f"no stored conversation '{external_id}' from '{source}'")
        return found

    @property
    def channel_titles(self) -> dict[str, str]:
        return {name: platform.title for name, platform in self.knowledge.platforms.items()}

    @property
    def feedback(self) -> FeedbackStore:
        if self._feedback is None:
            self._feedback = FeedbackStore(self.open_database(FeedbackStoreError))
        return self._feedback

    def passage(self, doc_id: str, section: str) -> dict[str, str]:
        """The whole text of one section of a document, as cited."""
        chunks = [c for c in self.index.retriever().lexical.chunks_of(doc_id) if c.section == section]
        if not chunks:
            raise NotFoundError(f"no section '{section}' in document '{doc_id}'")
        return {"id": doc_id, "title": chunks[0].title, "section": section,
                "text": "\n\n".join(chunk.text for chunk in chunks)}

    def clear_caches(self) -> None:
        """Forget cached query embeddings and recognised agent messages (benchmarks measure new messages)."""
        clear = getattr(self.index.embedder, "clear_cache", None)
        if clear:
            clear()
        if self._drafter is not None:
            self._drafter.clear_caches()

    @property
    def triage_ready(self) -> bool:
        """Triage answers at once: its model is fitted (or loaded), or the knowledge folder has no triage."""
        return self._triage is not None or not (self.settings.knowledge_dir / "triage.yaml").exists()

    def prepare_triage(self) -> None:
        """Fit the triage model (or load it from the index folder) and triage one message a policy answers, so
        the first request is answered at once; a knowledge folder without `triage.yaml` has nothing to
        prepare."""
        if not (self.knowledge.root / "triage.yaml").exists():
            return
        engine = self.triager
        engine.model.read("warm up")
        if self.chat_model() is not None:
            return  # no call to the language model at start-up
        answered = [i.exemplars[0] for i in engine.config.intents.values() if i.answerable and i.exemplars]
        platform = next(iter(self.knowledge.platforms), "livechat")
        # a message a policy answers, so the drafting pipeline and language detection are warm too
        engine.triage(TriageRequest(platform=platform, messages=[Message(role="customer",
                                                                         text=(answered or ["warm up"])[0])]))

    @property
    def triager(self) -> TriageEngine:
        if self._triage is None:
            knowledge = self.knowledge
            config = TriageConfig.load(knowledge.root / "triage.yaml")
            platforms = {name: p.marketplace for name, p in knowledge.platforms.items()}
            model = self.chat_model()
            llm = model.complete_json if model is not None and model.supports_json else None
            examples = load_examples(knowledge.root / EXAMPLES_DIR, config.intents)
            self._triage = TriageEngine(config, platforms, self.index.embedder, self.draft, llm, examples,
                                        cache_dir=self.settings.index_dir / "triage",
                                        words=knowledge.slot_words, addresses=knowledge.address_words,
                                        answers={d.meta.id: d.meta.answers for d in knowledge.documents})
        return self._triage

    def triage(self, request: TriageRequest) -> TriageResponse:
        """First-line triage of an incoming conversation (see `copilot.triage.engine`)."""
        return self.triager.triage(request)

    def validate_draft(self, request: DraftRequest) -> None:
        """Raise InvalidRequestError for an unknown platform, flow or step (before a stream starts)."""
        self.drafter.validate(request)

    def draft(self, request: DraftRequest) -> DraftResponse:
        """Propose the agent's next reply (see `Drafter`)."""
        return self.drafter.draft(request)

    def check(self, request: GuardrailRequest) -> CheckResult:
        """Run the guardrails over a text for the platform, flow and step it is meant for."""
        engine = self.guardrails
        said = None if request.messages is None else [m.text for m in request.messages]
        context = engine.context(request.text, request.platform, request.flow, request.step, request.language,
                                 said=said)
        return engine.check(request.text, context)

    def warm_up(self) -> None:
        """Bring the index up to date with the knowledge folder (only changed documents are embedded), then
        load the model and indexes and prepare triage, so the first request is fast."""
        self.ingest()
        self.index.retriever().search("warm up", k=1)
        self.drafter.prepare()
        self.prepare_triage()

    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        per_document: int | None = None,
        *,
        platform: str | None = None,
        kind: str | None = None,
        step: str | None = None,
        language: str | None = None,
    ) -> list[SearchHit]:
        """Search the index, filtered by platform, kind, step and language (each checked first)."""
        if mode not in MODES:
            raise InvalidRequestError(f"unknown search mode '{mode}'; use one of: {', '.join(MODES)}")
        if not 1 <= k <= 100:
            raise InvalidRequestError(f"k must be between 1 and 100, got {k}")
        where = self.search_filter(platform=platform, kind=kind, step=step, language=language)
        chosen: Mode = mode  # type: ignore[assignment]
        return self.index.search(query, k=k, where=where, mode=chosen, per_document=per_document)

    def search_filter(
        self,
        platform: str | None = None,
        kind: str | None = None,
        step: str | None = None,
        language: str | None = None,
    ) -> SearchFilter | None:
        """A SearchFilter after checking each value against the knowledge base's vocabulary."""
        knowledge = self.knowledge
        steps = {s.id for flow in knowledge.flows.values() for s in flow.steps}
        kinds = {document.meta.kind for document in knowledge.documents}
        checks = {"platform": (platform, knowledge.platforms), "step": (step, steps),
                  "kind": (kind, kinds), "language": (language, {"en", "vi"})}
        for name, (value, allowed) in checks.items():
            if value is not None and value not in allowed:
                raise InvalidRequestError(f"unknown {name} '{value}'; known: {', '.join(sorted(allowed))}")
        if platform is kind is step is language is None:
            return None
        return SearchFilter(platform=platform, kind=kind, step=step, language=language)


def _name(field: str, value: str, longest: int) -> None:
    """An agent, source or conversation id as a query gives it: printable, and not too long."""
    if not 1 <= len(value) <= longest or not value.isprintable():
        raise InvalidRequestError(f"{field} must be 1 to {longest} printable characters")
