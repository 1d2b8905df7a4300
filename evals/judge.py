"""LLM-judged ragas metrics, when a judge endpoint is configured (COPILOT_JUDGE_BASE_URL,
COPILOT_JUDGE_MODEL).

Faithfulness (the draft against the passages it cites), ResponseRelevancy (against the customer's last
message), and two AspectCritic checks: "asks for a review" on farewell drafts and "shows empathy" on empathy
drafts. A judge failure on one case skips that case's judged scores; it never stops the run.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from copilot.contracts import DraftRequest, DraftResponse
from copilot.core import Copilot
from evals.cases import Case
from evals.drafts import ragas_embeddings
from evals.evaluators import Evaluator

log = logging.getLogger(__name__)
REVIEW = "Does the response ask the customer to leave a review or rating?"
EMPATHY = "Does the response acknowledge the customer's feelings and show empathy before or while helping?"


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str
    model: str
    api_key: str = ""

    @classmethod
    def from_env(cls) -> JudgeConfig | None:
        url, model = os.environ.get("COPILOT_JUDGE_BASE_URL", ""), os.environ.get("COPILOT_JUDGE_MODEL", "")
        return cls(url, model, os.environ.get("COPILOT_JUDGE_API_KEY", "")) if url and model else None


class Judge(Evaluator[DraftRequest, DraftResponse]):
    """The four judged metrics over one draft."""

    version = 1

    def __init__(self, config: JudgeConfig, copilot: Copilot) -> None:
        from langchain_openai import ChatOpenAI
        from ragas.llms import LangchainLLMWrapper
        from ragas.metrics import AspectCritic, Faithfulness, ResponseRelevancy

        key = config.api_key or "not-needed"
        chat = ChatOpenAI(base_url=config.base_url, api_key=key,  # type: ignore[arg-type]
                          model=config.model, temperature=0, timeout=60, max_retries=2)
        llm = LangchainLLMWrapper(chat)
        self.copilot = copilot
        self.faithfulness = Faithfulness(llm=llm)
        embeddings = ragas_embeddings(copilot.index.embedder)
        self.relevancy = ResponseRelevancy(llm=llm, embeddings=embeddings, strictness=1)
        self.asks_review = AspectCritic(name="asks_for_review", definition=REVIEW, llm=llm)
        self.empathy = AspectCritic(name="shows_empathy", definition=EMPATHY, llm=llm)

    def evaluate(self, case: Case[DraftRequest], output: DraftResponse) -> dict[str, float]:
        from ragas.dataset_schema import SingleTurnSample

        question = case.input.messages[-1].text
        contexts = [self.copilot.passage(c.id, c.section)["text"] for c in output.citations]
        plain = SingleTurnSample(user_input=question, response=output.draft)
        scores: dict[str, float] = {}
        try:
            if contexts:
                grounded = SingleTurnSample(user_input=question, response=output.draft,
                                            retrieved_contexts=contexts)
                scores["judge_faithfulness"] = float(self.faithfulness.single_turn_score(grounded))
            scores["judge_relevancy"] = float(self.relevancy.single_turn_score(plain))
            if case.expected.get("step") == "farewell":
                scores["judge_asks_for_review"] = float(self.asks_review.single_turn_score(plain))
            if case.expected.get("step") == "empathy":
                scores["judge_shows_empathy"] = float(self.empathy.single_turn_score(plain))
        except Exception as exc:  # a judge is an outside service: any failure skips this case's judged scores
            log.warning("judge failed on %s: %s", case.id, exc)
            return {}
        return scores


def judge_from_env(copilot: Copilot) -> Judge | None:
    config = JudgeConfig.from_env()
    return Judge(config, copilot) if config else None
