"""Composing the reply: the acts a moment needs (greet, show empathy, answer, ask, hold back), in order."""

from copilot.compose.plan import Part, ReplyPlan, plan_reply

__all__ = ["Part", "ReplyPlan", "plan_reply"]
