"""The understanding stage: the customer's need, the answer that surely meets it (or the question to ask),
the mood, the language and how to address the customer."""

from copilot.understand.understanding import NeedReading, Understander, Understanding
from copilot.understand.units import AnswerUnit

__all__ = ["AnswerUnit", "NeedReading", "Understander", "Understanding"]
