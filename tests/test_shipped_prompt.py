"""The shipped team's voice (`knowledge/answers.yaml`, `tone` and `voice`) in the LLM's system prompt."""

from __future__ import annotations

from helpers import SHIPPED_KNOWLEDGE

from copilot import KnowledgeBase
from copilot.compose.base import DraftContext
from copilot.compose.prompting import build_prompt
from copilot.contracts import Message
from copilot.understand.config import AnswersConfig


def test_the_shipped_prompt_speaks_in_the_teams_voice() -> None:
    config = AnswersConfig.load(SHIPPED_KNOWLEDGE)
    step = KnowledgeBase.load(SHIPPED_KNOWLEDGE).flows["livechat"].steps[0]
    prompt = build_prompt(DraftContext(step, "vi", "livechat", {}, [], "hi"), [Message(role="customer",
                          text="hi")], "Live chat", [], config.voice["vi"], config.tone)
    system = prompt.messages[0]["content"]
    assert ("Voice: friendly, proactive, professional; short chat sentences; never argue with or blame the "
            "customer;\nshow empathy when they are upset. Write ONLY in Vietnamese (with full diacritics; "
            "call the customer anh/chị and yourself em or shop, polite ạ/nhé).") in system
