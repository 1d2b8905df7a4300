"""Facet examples teach which of a unit's replies the customer asks for."""

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
UNITS = """\
examples:
  - {text: "how should I look after my kettle", answer: kettle-care}
  - {text: "white crust inside the kettle", answer: kettle-care}
  - {text: "the kettle top stays open", answer: kettle-care}
  - {text: "how long is the spoon", answer: spoon-size}
  - {text: "spoon length please", answer: spoon-size}
"""
FACETS = """\
examples:
  - {text: "how should I look after my kettle", answer: kettle-care, facet: main}
  - {text: "any care tips for the kettle", answer: kettle-care, facet: main}
  - {text: "what do I do to keep the kettle nice", answer: kettle-care, facet: main}
  - {text: "white crust building up inside, how to clean it", answer: kettle-care, facet: removing limescale}
  - {text: "chalky flakes floating in the water now", answer: kettle-care, facet: removing limescale}
  - {text: "hard water left a crust at the bottom", answer: kettle-care, facet: removing limescale}
  - {text: "the top keeps popping open when it boils", answer: kettle-care, facet: the lid will not close}
  - {text: "cover does not shut anymore", answer: kettle-care, facet: the lid will not close}
  - {text: "the flap on top stays open", answer: kettle-care, facet: the lid will not close}
"""


def _understander(make_knowledge: Callable[..., Path], facets: str | None = FACETS) -> Understander:
    root = make_knowledge({"macros/kettle-care.md": KETTLE, "macros/spoon-size.md": SPOON,
                           "answers.yaml": ANSWERS, "answer-examples/examples.yaml": UNITS,
                           "facet-examples/kettle.yaml": facets})
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


def test_without_facet_examples_the_main_reply_is_sent(make_knowledge: Callable[..., Path]) -> None:
    understander = _understander(make_knowledge, facets=None)
    assert _read(understander, "there is a white crust inside my kettle")[0] is None


@pytest.mark.parametrize(("line", "named"), [
    ('{text: "is it dishwasher safe", answer: kettle-care, facet: dishwasher}',
     r"'dishwasher' is not a facet of kettle-care.*removing limescale"),
    ('{text: "is it steel", answer: spoon-size, facet: main}', r"'spoon-size' has no facets"),
    ('{text: "hello", answer: teapot, facet: main}', r"'teapot' is not an answer unit"),
])
def test_a_facet_example_naming_no_facet_of_its_unit_is_named_with_its_file(
    make_knowledge: Callable[..., Path], line: str, named: str,
) -> None:
    field = "facet" if "kettle" in line else "answer"
    with pytest.raises(KnowledgeError, match=rf"kettle\.yaml: field 'examples\.9\.{field}'.*" + named):
        _understander(make_knowledge, FACETS + f"  - {line}\n")


def test_a_second_start_embeds_no_example_again(make_knowledge: Callable[..., Path], tmp_path: Path) -> None:
    """The selector's and the facet reader's example vectors are kept side by side in the index folder."""
    from copilot.retrieval.embedders import HashingEmbedder

    root = make_knowledge({"macros/kettle-care.md": KETTLE, "macros/spoon-size.md": SPOON,
                           "answers.yaml": ANSWERS, "answer-examples/examples.yaml": UNITS,
                           "facet-examples/kettle.yaml": FACETS})
    knowledge, cache = KnowledgeBase.load(root), tmp_path / "index"
    cache.mkdir()
    Understander(knowledge, HashingEmbedder(), cache)
    again = HashingEmbedder()
    understander = Understander(knowledge, again, cache)
    assert again.calls == []
    assert understander.facets.knows("kettle-care")
