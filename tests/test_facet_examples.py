"""Answer examples that name a facet teach which of a unit's replies the customer asks for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import document

from copilot.contracts import Message
from copilot.errors import KnowledgeError
from copilot.knowledge import KnowledgeBase
from copilot.understand.understanding import Understander

ANSWERS = "threshold: 0.5\nquestions:\n  _unknown: {en: \"What can I help you with?\"}\n"
KETTLE = document(
    "kettle-care", "kettle care",
    "# Kettle\n\n## When to use\nLooking after the kettle.\n\n"
    "## Reply\nRinse the kettle after use and keep it dry.\n\n"
    "## Reply: removing limescale\nBoil half water, half vinegar, then rinse twice.\n\n"
    "## Reply: the lid will not close\nPress the hinge pin back in until it clicks.\n",
    kind="macro", answers="[product]",
)
SPOON = document("spoon-size", "spoon size",
                 "# Spoon\n\n## When to use\nSpoon size.\n\n## Reply\nThe spoon is 12 cm long.\n",
                 kind="macro", answers="[product]")
EXAMPLES = """\
examples:
  - {text: "how should I look after my kettle", answer: kettle-care}
  - {text: "any care tips for the kettle", answer: kettle-care}
  - {text: "what do I do to keep the kettle nice", answer: kettle-care}
  - {text: "white crust building up inside, how to clean it", answer: kettle-care, facet: removing limescale}
  - {text: "chalky flakes floating in the water now", answer: kettle-care, facet: removing limescale}
  - {text: "hard water left a crust at the bottom", answer: kettle-care, facet: removing limescale}
  - {text: "the top keeps popping open when it boils", answer: kettle-care, facet: the lid will not close}
  - {text: "cover does not shut anymore", answer: kettle-care, facet: the lid will not close}
  - {text: "the flap on top stays open", answer: kettle-care, facet: the lid will not close}
  - {text: "how long is the spoon", answer: spoon-size}
  - {text: "spoon length please", answer: spoon-size}
"""


def _understander(make_knowledge: Callable[..., Path], examples: str = EXAMPLES) -> Understander:
    root = make_knowledge({"macros/kettle-care.md": KETTLE, "macros/spoon-size.md": SPOON,
                           "answers.yaml": ANSWERS, "answer-examples/examples.yaml": examples})
    return Understander(KnowledgeBase.load(root), embedder=None)


def _read(understander: Understander, text: str) -> tuple[str | None, str]:
    reading = understander.read([Message(role="customer", text=text)], "livechat", "en")
    assert reading.answer is not None and reading.answer.id == "kettle-care"
    reply = reading.reply()
    assert reply is not None
    return (reading.facet[0] if reading.facet else None), reply[1]


def test_the_facet_the_examples_name_leads_the_reply(make_knowledge: Callable[..., Path]) -> None:
    understander = _understander(make_knowledge)
    facet, reply = _read(understander, "there is a white crust inside my kettle")
    assert facet == "removing limescale"
    assert reply.startswith("Boil half water, half vinegar")
    assert _read(understander, "the kettle cover will not shut")[0] == "the lid will not close"
    plain = _read(understander, "care tips for my kettle please")
    assert plain == (None, "Rinse the kettle after use and keep it dry.")


def test_without_examples_naming_a_facet_the_main_reply_is_sent(make_knowledge: Callable[..., Path]) -> None:
    plain = "\n".join(line.split(", facet:")[0] + "}" if "facet:" in line else line
                      for line in EXAMPLES.splitlines())
    understander = _understander(make_knowledge, plain + "\n")
    assert _read(understander, "there is a white crust inside my kettle")[0] is None


def test_an_example_naming_no_facet_of_its_unit_is_named_with_its_file(
    make_knowledge: Callable[..., Path],
) -> None:
    bad = EXAMPLES + '  - {text: "is it dishwasher safe", answer: kettle-care, facet: dishwasher}\n'
    expected = r"examples\.yaml: field 'examples\.11\.facet'.*'dishwasher' is not a facet of kettle-care"
    with pytest.raises(KnowledgeError, match=expected + r".*removing limescale"):
        _understander(make_knowledge, bad)
