"""The drafter: the stages of a draft (understand, locate, plan, retrieve, compose, check, respond) over the
components they use; `copilot/pipeline.py` runs them in order."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path

from copilot import pipeline
from copilot.compose.base import ChatModel, ChatModelError, Completion, DraftContext, DraftPrompt
from copilot.compose.local import LocalComposer
from copilot.compose.openai_chat import completion_from_text
from copilot.compose.plan import ReplyPlan, plan_reply, weighs_answering
from copilot.compose.prompting import build_prompt
from copilot.compose.slots import SLOT
from copilot.contracts import AnswerRef, Citation, DraftRequest, DraftResponse, GuardrailVerdict, NeedRef
from copilot.flow.fitted import FITTED_SUFFIX, keep_taught, kept_path, load_taught, taught_key
from copilot.flow.flows import Flow, FlowExamples, LabelledMoment
from copilot.flow.learned import teach
from copilot.flow.step_model import Examples, StepModel
from copilot.flow.tracker import StepLocation, StepTracker
from copilot.guardrails.engine import GuardrailEngine
from copilot.guardrails.models import Violation
from copilot.guardrails.repair import Repairer, RepairOutcome
from copilot.knowledge import KnowledgeBase
from copilot.retrieval.chunking import Chunk
from copilot.retrieval.embedders import Embedder
from copilot.retrieval.hybrid import SearchHit
from copilot.retrieval.index import KnowledgeIndex
from copilot.retrieval.vector_store import SearchFilter
from copilot.stages import DraftPlan
from copilot.text import sentences
from copilot.understand.address import addressed, bare_name
from copilot.understand.directives import without_directives
from copilot.understand.language import conversation_language
from copilot.understand.pii import PiiMasker
from copilot.understand.understanding import Understander, Understanding
from copilot.understand.units import AnswerUnit

log = logging.getLogger(__name__)


PASSAGES = 4
MAX_CITATIONS = 3


class Drafter:
    """Proposes the agent's next reply for a conversation, aligned to the flow and the platform's rules."""

    def __init__(
        self, knowledge: KnowledgeBase, index: KnowledgeIndex, guardrails: GuardrailEngine,
        embedder: Embedder | None, model: ChatModel | None = None, mask_pii: bool = True,
        understander: Understander | None = None, cache_dir: Path | None = None,
    ) -> None:
        """`cache_dir` keeps the flows' taught step models (the index folder's), so that a start after the
        first loads them instead of reading every labelled conversation again."""
        self.knowledge = knowledge
        self.index = index
        self.guardrails = guardrails
        self.repairer = Repairer(guardrails)
        self.composer = LocalComposer(knowledge.sections, knowledge.slot_words)
        self.model: ChatModel = model or self.composer
        self._embedder = embedder
        self._trackers: dict[str, StepTracker] = {}
        self.mask_pii = mask_pii
        self.understander = understander
        self.cache_dir = cache_dir

    def tracker(self, flow: Flow) -> StepTracker:
        """The flow's tracker; a flow with labelled conversations (`flows/<id>.examples.jsonl`) gets the
        learned step model, which reads them once here."""
        if flow.id not in self._trackers:
            tracker = StepTracker(flow, self._embedder)
            examples = self.knowledge.examples.get(flow.id)
            if examples and self._embedder is not None:
                self._teach(tracker, examples, self._embedder.name)
                # too few moments for a model of the flow's own: the shared one (unless the cues choose)
                if tracker.model is None and not flow.keep_cues:
                    readings = [(tracker.read(list(m.messages), m.names), m.step) for m in examples.moments]
                    tracker.model = StepModel.load().chooser(flow, Examples.build(flow, readings))
            self._trackers[flow.id] = tracker
        return self._trackers[flow.id]

    def _teach(self, tracker: StepTracker, examples: FlowExamples, embedder: str) -> None:
        """The flow's taught models: the copy shipped beside its examples or kept in the index folder when
        they were fitted from these examples, else taught now (and kept)."""
        flow = tracker.flow
        key = taught_key(flow, examples, embedder, self.answer_step(flow))
        shipped = self.knowledge.root / "flows" / f"{flow.id}{FITTED_SUFFIX}"
        kept = [shipped, *([kept_path(self.cache_dir, flow.id, key)] if self.cache_dir else [])]
        if any(load_taught(tracker, path, key) for path in kept):
            return
        self.teach(tracker, examples)
        if self.cache_dir is not None:
            keep_taught(tracker, self.cache_dir, flow.id, key)

    def teach(self, tracker: StepTracker, examples: FlowExamples) -> StepTracker:
        """Teach the tracker from its flow's labelled conversations now, each moment read by the
        understanding stage as drafts read it (`copilot step-train --flow` writes the result beside them)."""
        return teach(tracker, examples, lambda moment: self._moment_hints(tracker.flow, moment),
                     self.answer_step(tracker.flow))

    def answer_step(self, flow: Flow) -> str | None:
        """The flow's answering step (`answers.yaml`), whose presence in a reply's acts the answer-now model
        learns; None for a flow drafts do not compose answers for."""
        acts = self.understander.config.flows.get(flow.id) if self.understander is not None else None
        return acts.answer if acts is not None else None

    def _moment_hints(self, flow: Flow, moment: LabelledMoment) -> tuple[float, ...]:
        """What the understanding stage reads in a labelled moment, as `locate` gives it to the tracker."""
        request = DraftRequest(flow=flow.id, messages=list(moment.messages))
        if moment.platform in self.knowledge.platforms:
            request = request.model_copy(update={"platform": moment.platform})
        return self._hints(self.understand(request, flow, self.language(request)))

    def _hints(self, understanding: Understanding | None) -> tuple[float, ...]:
        if understanding is None or self.understander is None:
            return ()
        return self.understander.step_hints(understanding)

    def prepare(self) -> None:
        """Read the flows' labelled conversations now, so that no draft waits for them."""
        for flow_id in self.knowledge.examples:
            self.tracker(self.knowledge.flows[flow_id])

    def clear_caches(self) -> None:
        for tracker in self._trackers.values():
            tracker.clear_caches()

    def draft(self, request: DraftRequest) -> DraftResponse:
        return pipeline.draft(self, request)

    def stream(self, request: DraftRequest) -> Iterator[tuple[str, str | DraftResponse]]:
        """("delta", text) pieces as the model writes, then ("final", response) after the guardrails.

        The final draft may differ from the streamed text when a repair was needed: clients replace it."""
        started = time.perf_counter()
        plan = pipeline.prepare(self, request)
        if self.model is self.composer:
            completion, degraded = self.compose(request, plan.context)
            completion = self._addressed(completion, plan)
            for piece in re.findall(r"\S+\s*", completion.text):
                yield "delta", piece
        else:
            completion, degraded = yield from self._stream_model(request, plan)
        yield "final", pipeline.finish(self, request, plan, completion, degraded, started)

    def _stream_model(
        self, request: DraftRequest, plan: DraftPlan
    ) -> Generator[tuple[str, str | DraftResponse], None, tuple[Completion, bool]]:
        masker = PiiMasker(self.knowledge.address_words) if self.mask_pii else None
        prompt = self._llm_prompt(request, plan.context, masker)
        pieces: list[str] = []
        try:
            for piece in self.model.stream(prompt):
                pieces.append(piece)
                yield "delta", piece
            completion = completion_from_text("".join(pieces), self.model.name, len(plan.context.passages))
            return _unmasked(completion, masker), False
        except ChatModelError as exc:
            log.warning("LLM stream failed, using the local composer: %s", exc)
            return self.composer.complete(prompt), True

    def understand(self, request: DraftRequest, flow: Flow, language: str) -> Understanding | None:
        """What the conversation needs and whether an answer unit surely answers it; None for a flow or a
        knowledge base without answer units (drafts then follow the step and the retrieved passages)."""
        understander = self.understander
        if understander is None or not understander.answers_from_units:
            return None
        if flow.id not in understander.config.flows:
            return None
        return understander.read(request.messages, request.platform, language, request.customer.name)

    def plan(self, request: DraftRequest, flow: Flow, location: StepLocation,
             understanding: Understanding | None) -> ReplyPlan | None:
        """The acts of the reply at the located step, from what the understanding stage read."""
        if understanding is None or self.understander is None:
            return None
        acts = self.understander.config.flows[flow.id]
        answers_now = None
        weighed = request.step is None and weighs_answering(acts, location.step)
        if understanding.answer is not None and weighed:
            answers_now = self.tracker(flow).answers_now(request.messages, list(request.slots().values()),
                                                         self._hints(understanding))
        return plan_reply(flow, acts, location.step, understanding, forced=request.step is not None,
                          answers_now=answers_now, opens=self._opening_act(flow, understanding))

    def _opening_act(self, flow: Flow, understanding: Understanding) -> str | None:
        """The act the answer's reply opens with, as the flow's labelled sentences taught (None: no answer, or
        nothing taught)."""
        reader = self.tracker(flow).sentence_acts
        reply = understanding.reply() if reader is not None else None
        first = sentences(SLOT.sub("", reply[1])) if reply else []
        return reader.act(first[0].text) if reader is not None and first else None

    def context(self, request: DraftRequest, flow: Flow, location: StepLocation, reply: ReplyPlan | None,
                language: str) -> DraftContext:
        """What the model writes from: the step, the slots and the passages (the selected answer unit's reply
        when the reply is planned, else the best retrieved passages of the step)."""
        step = reply.step if reply else flow.step(location.step)
        if reply is None:
            passages = self._retrieve(request, step.id) if step.knowledge else []
        else:
            passages = [_answer_hit(reply, language)] if reply.answers or reply.asks_first else []
        return DraftContext(
            step=step, language=language, platform=request.platform, slots=self._slots(request),
            passages=passages, customer_text=_recent_customer_text(request), plan=reply,
        )

    def _slots(self, request: DraftRequest) -> dict[str, str]:
        slots = request.slots()
        if "customer_name" in slots and self.understander is not None:
            slots["customer_name"] = bare_name(self.understander.config.address, slots["customer_name"])
        return slots

    def check(
        self, request: DraftRequest, plan: DraftPlan, completion: Completion
    ) -> tuple[RepairOutcome, bool]:
        """The guardrails' verdict on the draft, repaired until it passes; False when the model kept breaking
        the rules and the local composer's template replaced its draft (the draft is then not grounded)."""
        context, step = plan.context, plan.context.step
        used_templates: list[bool] = []

        def regenerate(text: str, violations: list[Violation]) -> str | None:
            """The model rewrites with the violations as feedback; the last attempt is the local composer's,
            so a model that keeps obeying a customer's instructions cannot leave a draft cut to pieces."""
            feedback = replace(context, feedback=violations)
            if len(used_templates) + 1 >= self.repairer.max_attempts and self.model is not self.composer:
                used_templates.append(True)
                return self.composer.complete(build_prompt(feedback, request.messages, "", [])).text
            again, _ = self.compose(request, feedback)
            used_templates.append(again.model == self.composer.name)
            return again.text

        text = self._addressed(completion, plan).text
        verdict = self.guardrails.context(text, request.platform, plan.flow.id, step.id, context.language,
                                          said=[m.text for m in request.messages])
        outcome = self.repairer.repair(text, verdict, context.slots, step, regenerate)
        replaced = bool(used_templates and used_templates[-1])
        if replaced and self.model is not self.composer:
            outcome.repairs.append("the model kept breaking the rules: the local composer wrote the draft")
        return outcome, not replaced

    def respond(self, plan: DraftPlan, completion: Completion, outcome: RepairOutcome, grounded: bool,
                degraded: bool, started: float) -> DraftResponse:
        """The contract's response: the checked draft, its step and acts, citations, answer and need."""
        step, reply = plan.context.step, plan.reply
        only_used = completion.model == self.composer.name
        citations = _citations(completion, plan.context.passages, only_used) if grounded else []
        understanding = reply.understanding if reply else None
        answered = reply is not None and reply.answers and bool(citations)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return DraftResponse(
            draft_id=uuid.uuid4().hex, draft=outcome.text, step=step.id,
            next_steps=list(step.next) if reply else plan.location.next_steps,
            steps_done=plan.location.steps_done, language=plan.context.language, citations=citations,
            guardrails=GuardrailVerdict(allowed=outcome.result.allowed, violations=outcome.result.violations,
                                        repairs=outcome.repairs),
            model=completion.model, degraded=degraded, latency_ms=latency_ms,
            acts=reply.acts if reply else [step.id],
            answer=AnswerRef(id=understanding.answer.id, confidence=round(understanding.confidence, 3))
            if answered and understanding and understanding.answer else None,
            need=NeedRef(intent=understanding.need, confidence=round(understanding.need_confidence, 3))
            if understanding and understanding.need else None,
        )

    def _addressed(self, completion: Completion, plan: DraftPlan) -> Completion:
        """A Vietnamese draft calls the customer as the conversation does ("chị", not "anh/chị")."""
        if plan.reply is None or self.understander is None or plan.context.language != "vi":
            return completion
        text = addressed(completion.text, self.understander.config.address, plan.reply.understanding.address)
        return replace(completion, text=text)

    def language(self, request: DraftRequest) -> str:
        """The conversation's language: the customer's words, the agent's, and the platform's usual
        language."""
        if request.language != "auto":
            return request.language
        customer = [m.text for m in request.messages if m.role == "customer"]
        agent = [m.text for m in request.messages if m.role == "agent"]
        platform = self.knowledge.platforms.get(request.platform)
        return conversation_language(customer, agent, platform.language if platform else None)

    def locate(self, request: DraftRequest, flow: Flow, understanding: Understanding | None) -> StepLocation:
        location = self.tracker(flow).locate(request.messages, list(request.slots().values()),
                                             self._hints(understanding))
        if request.step is None:
            return location
        forced = flow.step(request.step)
        return StepLocation(forced.id, location.steps_done, list(forced.next), ["step forced by the request"])

    def validate(self, request: DraftRequest) -> Flow:
        return self.knowledge.resolve(request.platform, request.flow, request.step)

    def _retrieve(self, request: DraftRequest, step: str) -> list[SearchHit]:
        """The best passages, followed by the ready-reply sections of the documents they come from."""
        query = _recent_customer_text(request, turns=3)
        if not query.strip():
            return []
        on_step = SearchFilter(platform=request.platform, step=step)
        on_platform = SearchFilter(platform=request.platform)
        for where in (on_step, on_platform):
            hits = self.index.search(query, k=PASSAGES, where=where, per_document=2)
            if hits:
                return hits + self._reply_sections(hits)
        return []

    def _reply_sections(self, hits: list[SearchHit]) -> list[SearchHit]:
        seen = {hit.chunk.id for hit in hits}
        extra = []
        for hit in hits:
            for chunk in self.index.retriever().lexical.chunks_of(hit.chunk.doc_id):
                if chunk.id not in seen and self.knowledge.sections.sendable(chunk.section.split(" > ")[-1]):
                    seen.add(chunk.id)
                    extra.append(SearchHit(chunk=chunk, score=hit.score))
        return extra

    def compose(self, request: DraftRequest, context: DraftContext) -> tuple[Completion, bool]:
        """Draft with the configured model; any failure falls back to the local composer, marked degraded."""
        if self.model is self.composer:
            return self.composer.complete(build_prompt(context, request.messages, "", [])), False
        masker = PiiMasker(self.knowledge.address_words) if self.mask_pii else None
        prompt = self._llm_prompt(request, context, masker)
        try:
            return _unmasked(self.model.complete(prompt), masker), False
        except ChatModelError as exc:
            log.warning("LLM draft failed, using the local composer: %s", exc)
            return self.composer.complete(prompt), True

    def _llm_prompt(
        self, request: DraftRequest, context: DraftContext, masker: PiiMasker | None
    ) -> DraftPrompt:
        """The LLM's prompt; with a masker, personal data in the conversation is replaced by tokens."""
        messages = request.messages
        if masker is not None:
            messages = [m.model_copy(update={"text": masker.mask(m.text)}) for m in messages]
        config = self.understander.config if self.understander else None
        voice, tone = (config.voice.get(context.language, ""), config.tone) if config else ("", "")
        title = self._platform_title(request.platform)
        return build_prompt(context, messages, title, self._rules(request, context), voice, tone)

    def _platform_title(self, platform: str) -> str:
        return self.knowledge.platforms[platform].title

    def _rules(self, request: DraftRequest, context: DraftContext) -> list[str]:
        check = self.guardrails.context("", request.platform, request.flow, context.step.id, context.language)
        return [rule.spec.message_for(context.language) for rule in self.guardrails.rules
                if rule.spec.scope.applies(check)]


def _answer_hit(reply: ReplyPlan, language: str) -> SearchHit:
    """The selected answer unit's reply (or, when the reply asks first, its ask-first message) as the one
    passage of the draft (cited by its section)."""
    unit: AnswerUnit | None = reply.understanding.answer
    assert unit is not None
    asking = unit.asks.get(language) if reply.asks_first and not reply.answers else None
    chosen = asking or (reply.understanding.reply() if reply.understanding.language == language else None)
    heading, text = chosen or unit.reply(language) or next(iter(unit.replies.values()))
    chunk = Chunk(id=f"{unit.id}::reply-{language}", doc_id=unit.id, title=unit.title, section=heading,
                  kind=unit.kind, text=text, fingerprint="", source=str(unit.path), platforms=unit.platforms)
    return SearchHit(chunk=chunk, score=round(reply.understanding.confidence, 4))


def _unmasked(completion: Completion, masker: PiiMasker | None) -> Completion:
    """Put the customer's own data back where the model wrote its tokens."""
    return replace(completion, text=masker.unmask(completion.text)) if masker else completion


def _recent_customer_text(request: DraftRequest, turns: int = 1) -> str:
    """The last customer turns without instructions aimed at the bot: they must not steer retrieval."""
    customer = [m.text for m in request.messages if m.role == "customer"]
    return " ".join(without_directives(text) for text in customer[-turns:])


def _citations(completion: Completion, passages: list[SearchHit], only_used: bool) -> list[Citation]:
    """The passages the draft used first, then the other retrieved documents it stands on. A composer draft
    that used no passage (a template) cites nothing; an LLM that cited none is credited with all it was
    given."""
    used = list(completion.passages)
    if only_used and not used:
        return []
    order = used + [i for i in range(len(passages)) if i not in used]
    citations: list[Citation] = []
    for index in order:
        chunk = passages[index].chunk
        if all(c.id != chunk.doc_id for c in citations):
            citations.append(Citation(id=chunk.doc_id, title=chunk.title, section=chunk.section,
                                      score=passages[index].score))
    return citations[:MAX_CITATIONS]
