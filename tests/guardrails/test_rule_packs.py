"""Teams add rules as YAML; a broken pack is named precisely and a new rule works with no code change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from copilot import KnowledgeBase, KnowledgeError
from copilot.guardrails.engine import GuardrailEngine

NEW_RULE = r"""rules:
  - id: competitor_mention
    type: forbidden
    severity: warn
    scope: {platforms: [livechat]}
    patterns: ['\b(privy|klaviyo)\b']
    unless: ['\bintegrat']
    message: {en: "Do not recommend competitors.", vi: "Không giới thiệu đối thủ."}
"""


def engine_for(root: Path) -> GuardrailEngine:
    return GuardrailEngine.from_knowledge(KnowledgeBase.load(root))


def pack_error(make_knowledge: Callable[..., Path], text: str) -> KnowledgeError:
    root = make_knowledge()
    (root / "rules" / "team.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        engine_for(root)
    return caught.value


def test_a_rule_added_as_yaml_works_without_code(make_knowledge: Callable[..., Path]) -> None:
    root = make_knowledge()
    (root / "rules" / "team.yaml").write_text(NEW_RULE, encoding="utf-8")
    engine = engine_for(root)
    text = "You could also try Privy for popups."
    result = engine.check(text, engine.context(text, platform="livechat", step="troubleshoot"))
    assert result.rules() == ["competitor_mention"] and result.allowed  # warn does not block
    fine = "Our app integrates with Klaviyo."
    assert engine.check(fine, engine.context(fine, platform="livechat")).violations == []
    shopee = engine.check(text, engine.context(text, platform="shopee"))
    assert "competitor_mention" not in shopee.rules()


def test_invalid_regex_is_named_with_its_field(make_knowledge: Callable[..., Path]) -> None:
    error = pack_error(make_knowledge, NEW_RULE.replace("\\bintegrat", "(unclosed"))
    assert error.path.endswith("team.yaml") and error.field == "rules.0.unless"
    assert "not a valid regular expression" in error.reason


def test_unknown_platform_in_scope_is_named(make_knowledge: Callable[..., Path]) -> None:
    error = pack_error(make_knowledge, NEW_RULE.replace("[livechat]", "[amazon]"))
    assert error.field == "rules.0.scope.platforms" and "amazon" in error.reason


def test_missing_message_is_named(make_knowledge: Callable[..., Path]) -> None:
    text = NEW_RULE.split("    message:")[0]
    error = pack_error(make_knowledge, text)
    assert error.field == "rules.0.message" and "missing" in error.reason


def test_duplicate_rule_id_names_the_other_pack(make_knowledge: Callable[..., Path]) -> None:
    error = pack_error(make_knowledge, NEW_RULE.replace("competitor_mention", "push_to_cancel"))
    assert "already defined" in error.reason and "mini-marketplace.yaml" in error.reason


def test_unknown_rule_type_is_rejected(make_knowledge: Callable[..., Path]) -> None:
    error = pack_error(make_knowledge, NEW_RULE.replace("type: forbidden", "type: banned"))
    assert error.field == "rules.0.type"


SAID_RULE = r"""rules:
  - id: unshown_delivery
    type: forbidden
    unless_said: true
    patterns: ['\bparcel (is|was) (delivered|dropped off)\b', '\bcoupon (is|was) (sent|emailed)\b']
    unless: ['\bwill\b']
    message: {en: "Do not report a delivery the conversation does not show."}
"""


def test_an_unless_said_rule_checks_drafts_against_what_the_conversation_said(
        make_knowledge: Callable[..., Path]) -> None:
    """Only drafts are checked (their conversation is known); a claim the conversation already made may be
    repeated, pattern by pattern; its `unless` still clears a sentence."""
    root = make_knowledge()
    (root / "rules" / "team.yaml").write_text(SAID_RULE, encoding="utf-8")
    engine = engine_for(root)
    text = "Your parcel was delivered this morning."

    def found(said: list[str] | None, draft: str = text) -> list[str]:
        return engine.check(draft, engine.context(draft, platform="livechat", said=said)).rules()

    assert found(None) == []  # an agent's own reply: its conversation is not known
    assert found([]) == ["unshown_delivery"]
    assert found(["hello", "the courier says the parcel is delivered"]) == []
    assert found(["your coupon was emailed yesterday"]) == ["unshown_delivery"]  # another claim
    assert found([], "Your parcel will be delivered, and the parcel is delivered to the locker.") == []
