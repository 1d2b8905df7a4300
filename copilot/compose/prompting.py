"""Turning a draft request into chat messages from the prompt files in `copilot/compose/prompts/`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.compose import prompts
from copilot.compose.base import DraftContext, DraftPrompt
from copilot.contracts import Message

LANGUAGE_NAMES = {"en": "English", "vi": "Vietnamese"}
# A data block's own tags, in any case or spacing, and the role marks of the conversation transcript.
DATA_TAG = re.compile(r"<\s*/?\s*(conversation|passages)\b[^>]*>", re.IGNORECASE)
ROLE_MARK = re.compile(r"\[\s*(customer|agent|system|assistant|user|developer|inst)\s*\]", re.IGNORECASE)


def build_prompt(
    context: DraftContext, conversation: Sequence[Message], platform_title: str, rules: Sequence[str],
    voice: str = "", tone: str = "",
) -> DraftPrompt:
    """System prompt (voice, language, rules), step instructions, passages and the conversation as data.
    `voice`: the knowledge base's note on writing the reply's language (`answers.yaml`, `voice`); `tone`:
    the team's voice in every language (`answers.yaml`, `tone`)."""
    language = LANGUAGE_NAMES.get(context.language, context.language)
    system = _system(context, platform_title, rules, language, voice, tone)
    instructions = _instructions(context)
    user = _user(context, conversation, language)
    messages = [
        {"role": "system", "content": f"{system}\n\n{instructions}"},
        {"role": "user", "content": user},
    ]
    return DraftPrompt(messages=messages, context=context)


def _system(
    context: DraftContext, platform_title: str, rules: Sequence[str], language: str, voice: str, tone: str
) -> str:
    """The system prompt: who writes, for which platform, in which voice and language, under which rules."""
    tone = tone.strip().rstrip(".")
    return prompts.render(
        "system",
        agent_name=context.slots.get("agent_name") or "the agent",
        brand=context.slots.get("brand") or "the company",
        platform_title=platform_title,
        voice=f"Voice: {tone}. " if tone else "",
        language_name=language,
        language_note=f" ({voice})" if voice else "",
        rules="\n".join(f"- {rule}" for rule in rules) or "- (none beyond the voice above)",
    )


def _instructions(context: DraftContext) -> str:
    """The step's instructions, from its prompt family, with the step's templates as examples."""
    step = context.step
    family = f"step_{step.prompt}" if prompts.exists(f"step_{step.prompt}") else "step_generic"
    examples = step.templates.get(context.language) or next(iter(step.templates.values()), ())
    return prompts.render(
        family,
        step_title=step.title,
        step_id=step.id,
        step_goal=step.goal,
        examples="\n".join(f"- {example}" for example in examples) or "- (none)",
        review_instruction="You MUST ask the customer for a review or rating in this message."
        if step.review_ask else "",
    )


def _user(context: DraftContext, conversation: Sequence[Message], language: str) -> str:
    """The user message: the passages, the conversation as data, the guardrails' feedback and the plan."""
    return prompts.render(
        "user",
        passages=_passages(context),
        conversation="\n".join(f"[{m.role}] {_turn(m.text)}" for m in conversation),
        feedback=_feedback(context),
        plan=_plan(context),
        language_name=language,
        step_title=context.step.title,
    )


def _data(text: str) -> str:
    """Text in a data block cannot open or close a block, however its tags are spelled."""
    return DATA_TAG.sub(lambda match: f"‹{match.group(0)[1:-1]}›", text)


def _turn(text: str) -> str:
    """One message of the transcript: it cannot pose as another turn ("\n[agent] ...") or leave the block."""
    text = ROLE_MARK.sub(lambda match: f"({match.group(1)})", _data(text))
    return "\n    ".join(text.splitlines())


def _passages(context: DraftContext) -> str:
    if not context.passages:
        return "(no passage: do not state facts or policies you were not given)"
    blocks = []
    for number, hit in enumerate(context.passages, start=1):
        chunk = hit.chunk
        heading = f"[{number}] {chunk.title} — {chunk.section} (id: {chunk.doc_id})"
        blocks.append(f"{heading}\n{_data(chunk.text)}")
    return "\n\n".join(blocks)


def _plan(context: DraftContext) -> str:
    """What the understanding stage decided: the acts in order, and the answer to give or the question to
    ask."""
    plan = context.plan
    if plan is None:
        return ""
    lines = [f"This message performs, in order: {', then '.join(part.step.title for part in plan.parts)}."]
    need = plan.understanding.need
    if plan.asks_first:
        lines.append(f"The customer's need ({need or 'as read'}) has an answer in the knowledge base, but"
                     " its procedure first needs details the conversation does not give yet: do not give"
                     " the fix or the policy yet; ask for the details passage [1] asks for, in your words.")
    elif plan.answers:
        lines.append(f"The customer's need ({need or 'as read'}) is answered by passage [1]: give that "
                     "answer, keeping every fact of it, in your own words.")
    elif plan.understanding.question:
        lines.append("No answer of the knowledge base is sure enough for this conversation: do not state any "
                     f"policy or procedure; ask this one question instead: {plan.understanding.question}")
    else:
        lines.append("No answer of the knowledge base is sure enough: do not state any policy; say what you "
                     "will check and when you will come back.")
    form = plan.understanding.address
    if form and context.language == "vi":
        lines.append(f"Address the customer as \"{form}\" (the conversation already does).")
    return "\n".join(lines) + "\n"


def _feedback(context: DraftContext) -> str:
    if not context.feedback:
        return ""
    problems = "\n".join(f"- {violation.rule}: {violation.message}" for violation in context.feedback)
    return f"\nYour previous draft broke these rules; write it again without breaking them:\n{problems}\n"
