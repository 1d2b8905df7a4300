"""The LLM's system prompt takes the team's voice from the knowledge folder (`answers.yaml`, `tone`): a team
that writes its own changes what every prompt says, and a bad one is named at loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from copilot import KnowledgeBase, KnowledgeError
from copilot.compose.base import DraftContext
from copilot.compose.prompting import build_prompt
from copilot.contracts import Message
from copilot.understand.config import AnswersConfig

TONE = 'tone: "calm as a glacier; never an exclamation mark."\nvoice: {vi: "xưng tớ, gọi khách là cậu"}\n'


def system_prompt(root: Path, language: str) -> str:
    """The system prompt an LLM gets for the greeting of `root`'s default flow."""
    config = AnswersConfig.load(root)
    step = KnowledgeBase.load(root).flows["livechat"].steps[0]
    context = DraftContext(step, language, "livechat", {}, [], "hi")
    prompt = build_prompt(context, [Message(role="customer", text="hi")], "Live chat", [],
                          config.voice.get(language, ""), config.tone)
    return prompt.messages[0]["content"]


def test_the_prompt_speaks_in_the_tone_of_answers_yaml(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge({"answers.yaml": TONE})
    assert "Voice: calm as a glacier; never an exclamation mark. Write ONLY in English." in \
        system_prompt(root, "en")
    assert "Voice: calm as a glacier; never an exclamation mark. Write ONLY in Vietnamese (xưng tớ, gọi " \
        "khách là cậu)." in system_prompt(root, "vi")


def test_without_a_tone_the_prompt_names_no_voice(make_knowledge: Callable[..., Path]) -> None:
    system = system_prompt(make_knowledge(), "en")
    assert "Voice:" not in system and "Write ONLY in English." in system


@pytest.mark.parametrize(("text", "field"), [("tone: [calm, kind]\n", "tone"), ("tones: calm\n", "tones")])
def test_a_bad_tone_is_named_with_its_file_and_field(make_knowledge: Callable[..., Path], text: str,
                                                     field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        AnswersConfig.load(make_knowledge({"answers.yaml": text}))
    assert caught.value.path.endswith("answers.yaml") and caught.value.field == field
