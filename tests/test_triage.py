"""First-line triage, the code: escalation rules, routing and SLA as data, handoff as a field, read from a
small triage table written by the test (`helpers.triage_kb`) with the hashing embedder, so every assertion
names the fixture's own words. What the shipped table decides is checked in `test_shipped_knowledge.py`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.triage_kb import TRIAGE_DOCS, TRIAGE_TABLE, triage

from copilot import Copilot, InvalidRequestError, Settings
from copilot.retrieval.embedders import HashingEmbedder

CANCEL_REPLY = "Dạ anh/chị tự gửi yêu cầu hủy trong mục Đơn mua của ứng dụng ạ."
EXCHANGE_REPLY = ("Unworn items with their tags can be exchanged for another size within seven days of "
                  "delivery.")


@pytest.fixture
def build(make_knowledge: Callable[..., Path], tmp_path: Path) -> Callable[..., Copilot]:
    """A copilot over the small triage knowledge base, indexed; `table` replaces its triage.yaml, `settings`
    go to its Settings (an LLM endpoint)."""

    def make(table: str = TRIAGE_TABLE, **settings: Any) -> Copilot:
        knowledge = make_knowledge({**TRIAGE_DOCS, "triage.yaml": table})
        copilot = Copilot(Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index", **settings),
                          embedder=HashingEmbedder())
        copilot.ingest()
        return copilot

    return make


@pytest.fixture
def copilot(build: Callable[..., Copilot]) -> Copilot:
    return build()


def test_a_policy_question_gets_an_immediate_cited_answer(copilot: Copilot) -> None:
    result = triage(copilot, "Cho mình hỏi cách tự hủy đơn trên Shopee với?")
    assert (result.urgency, result.issue_type, result.intent, result.handoff) == (
        "medium", "order_request", "cancel_order", False)
    assert result.language == "vi" and result.route == "market-desk" and result.sla_minutes == 90
    assert result.auto_reply is not None and result.auto_reply.text == CANCEL_REPLY
    assert "cancel-how-to" in [c.id for c in result.auto_reply.citations]
    assert result.holding_message is None and any("answered from cancel-how-to" in r for r in result.reasons)


def test_an_order_request_goes_to_the_marketplace_team_only_on_a_marketplace(copilot: Copilot) -> None:
    assert triage(copilot, "how can I cancel an order", platform="livechat").route == "front-desk"
    assert triage(copilot, "how can I cancel an order", platform="shopee").route == "market-desk"


def test_a_rule_with_a_team_goes_straight_to_that_team_marked_urgent(copilot: Copilot) -> None:
    result = triage(copilot, "Bán hàng giả thế này thì tôi sẽ kiện shop ra tòa!")
    assert (result.urgency, result.issue_type, result.handoff, result.route) == (
        "urgent", "complaint", True, "trust-desk")
    assert result.sla_minutes == 5 and result.auto_reply is None
    assert result.holding_message == "Chào Lan, người của quầy sẽ trả lời trong 5 phút."
    assert "court threat ('se kien'): urgent" in result.reasons


def test_a_vip_with_a_broken_checkout_gets_a_senior_human_fast(copilot: Copilot) -> None:
    """The checkout rule names no team: the senior level (`routing.vip_problem`) takes the VIP's problem."""
    result = triage(copilot, "Your app broke our checkout, customers cannot pay!", platform="livechat",
                    tier="vip", name="Mia")
    assert (result.urgency, result.issue_type, result.handoff, result.route) == (
        "urgent", "technical_support", True, "senior-desk")
    assert result.holding_message == "Hello Mia, a person from the desk answers within 5 min."


def test_repeated_contact_is_escalated_one_level(copilot: Copilot) -> None:
    first = triage(copilot, "voucher của mình không áp dụng được")
    again = triage(copilot, "Mình nhắn lan 2 rồi mà voucher vẫn không áp dụng được")
    assert (first.urgency, first.route, first.handoff) == ("medium", "front-desk", False)
    assert (again.urgency, again.route, again.handoff, again.sentiment) == (
        "high", "second-line", True, "negative")
    assert "handoff: repeated contact: escalate one level" in again.reasons


def test_a_repeat_about_a_small_issue_is_high_not_urgent(copilot: Copilot) -> None:
    """The repeat rule raises to high, never further."""
    again = triage(copilot, "I am writing again: my voucher code is still not applied")
    assert again.urgency == "high" and "repeated contact about the same issue: high" in again.reasons


def test_a_vip_question_is_not_a_vip_problem(copilot: Copilot) -> None:
    question = triage(copilot, "Where do I change the popup text to French?", platform="livechat", tier="vip")
    problem = triage(copilot, "The popup text shows in the wrong language on our store", platform="livechat",
                     tier="vip")
    assert question.urgency == "medium" and question.route == "front-desk" and not question.handoff
    assert problem.urgency == "high" and problem.route == "senior-desk" and problem.handoff
    assert "a 'vip' customer with a problem: high" in problem.reasons


def test_who_goes_to_the_senior_level_is_the_knowledge_bases_word(build: Callable[..., Copilot]) -> None:
    """A team whose senior level serves its loyal customers says so in triage.yaml (`senior.tiers`)."""
    copilot = build(TRIAGE_TABLE.replace("  tiers: [vip]\n", "  tiers: [loyal]\n"))
    text = "The popup text shows in the wrong language on our store"
    loyal = triage(copilot, text, platform="livechat", tier="loyal")
    vip = triage(copilot, text, platform="livechat", tier="vip")
    assert loyal.route == "senior-desk" and loyal.handoff
    assert "a 'loyal' customer with a problem: high" in loyal.reasons
    assert vip.route == "tech-desk" and not any("customer with a problem" in r for r in vip.reasons)


def test_a_rule_that_hands_off_without_raising_sends_a_request_to_act_to_a_person(copilot: Copilot) -> None:
    for text, platform in (("The ring is a little loose, could I exchange it for a size 6?", "livechat"),
                           ("Em mặc size M hơi chật, shop đổi cho em sang L được không ạ?", "shopee")):
        result = triage(copilot, text, platform=platform)
        assert (result.urgency, result.handoff, result.auto_reply) == ("medium", True, None), text
        assert "handoff: a swap someone must make" in result.reasons, text
    general = triage(copilot, "What is your size exchange policy?", platform="livechat")
    assert not general.handoff and general.auto_reply is not None
    assert general.auto_reply.text == EXCHANGE_REPLY


def test_thanks_and_compliments_get_the_bots_thanks_not_a_person(copilot: Copilot) -> None:
    thanks = (("Nhận hàng rồi nha shop, áo đẹp lắm, cảm ơn shop nhiều ❤️", "Quầy cảm ơn Vy nhiều lắm."),
              ("Just wanted to say your team fixed my popup in five minutes. Amazing, thank you!",
               "Much appreciated, Vy: the desk smiles."))
    for text, reply in thanks:
        result = triage(copilot, text, platform="livechat", name="Vy")
        assert (result.urgency, result.handoff, result.holding_message) == ("low", False, None), text
        assert result.auto_reply is not None and result.auto_reply.text == reply
        assert result.auto_reply.citations == []


def test_thanks_that_press_a_problem_go_to_a_person_and_are_not_feedback(copilot: Copilot) -> None:
    """Read as praise by the model, but a high rule fires: the next most likely issue type, and a person."""
    upset = triage(copilot, "Thanks a lot, great work... still broken!!", platform="livechat")
    assert upset.intent == "praise" and upset.urgency == "high"
    assert upset.handoff and upset.auto_reply is None
    assert upset.issue_type != "idea_suggestion", upset.reasons
    assert f"high is not an idea or a compliment: {upset.issue_type}" in upset.reasons


def test_email_gets_its_channels_service_level_and_a_wait_in_hours(copilot: Copilot) -> None:
    email = triage(copilot, "my popup is not showing", platform="email")
    chat = triage(copilot, "my popup is not showing", platform="livechat")
    assert (email.sla_minutes, chat.sla_minutes) == (180, 90)
    assert email.holding_message == "Hello Lan, a person from the desk answers within 3 hrs."
    assert chat.holding_message == "Hello Lan, a person from the desk answers within 90 min."


def test_an_intent_no_policy_answers_goes_to_a_person(copilot: Copilot) -> None:
    result = triage(copilot, "my popup is not showing", platform="livechat")
    assert (result.intent, result.urgency, result.route) == ("popup_broken", "medium", "tech-desk")
    assert result.handoff and result.auto_reply is None
    assert "handoff: no policy answers 'popup_broken' on its own: a person must check" in result.reasons


def test_under_the_confidence_threshold_the_bot_hands_off(build: Callable[..., Copilot]) -> None:
    copilot = build(TRIAGE_TABLE.replace("auto_reply_threshold: 0.3", "auto_reply_threshold: 0.99"))
    result = triage(copilot, "Cho mình hỏi cách tự hủy đơn trên Shopee với?")
    assert result.intent == "cancel_order" and result.handoff and result.auto_reply is None
    handoffs = [r for r in result.reasons if r.startswith("handoff: intent confidence")]
    assert handoffs and handoffs[0].endswith("is under 0.99"), result.reasons


def test_an_idea_is_low_urgency(copilot: Copilot) -> None:
    result = triage(copilot, "It would be great if the popup supported video backgrounds",
                    platform="livechat")
    assert (result.urgency, result.issue_type, result.intent) == ("low", "idea_suggestion", "praise")
    assert "an idea, feedback or a compliment: low" in result.reasons


def test_compliments_and_ideas_read_as_medium_are_low(copilot: Copilot) -> None:
    """The fixture's examples are all medium: the feedback issue type alone brings them down to low."""
    for text in ("shop nên thêm màu đỏ nữa, mình nghĩ sẽ hay lắm", "cảm ơn shop nhiều, áo đẹp lắm"):
        result = triage(copilot, text, platform="livechat")
        assert (result.issue_type, result.urgency) == ("idea_suggestion", "low"), (text, result.reasons)


@pytest.mark.parametrize(("text", "platform", "reply"), [
    ("If the parcel arrived smashed, can I exchange it for another size?", "livechat", EXCHANGE_REPLY),
    ("Nếu hàng bị vỡ thì em hủy đơn thế nào ạ?", "shopee", CANCEL_REPLY),
], ids=["english-exchange", "vietnamese-cancel"])
def test_a_question_about_what_could_go_wrong_is_answered_not_escalated(copilot: Copilot, text: str,
                                                                        platform: str, reply: str) -> None:
    """"If it arrives smashed" asks for the policy: a rule's `not_after` words, earlier in the sentence, skip
    its match."""
    result = triage(copilot, text, platform=platform)
    assert result.urgency == "medium" and not result.handoff, result.reasons
    assert result.auto_reply is not None and result.auto_reply.text == reply and result.auto_reply.citations


def test_a_report_is_escalated_even_when_a_later_sentence_asks_what_if(copilot: Copilot) -> None:
    result = triage(copilot, "My vase arrived smashed. If I cancel, do I get the money back?")
    assert result.urgency == "high" and result.handoff and result.sla_minutes == 20
    assert "parcel arrived smashed ('arrived smashed'): high" in result.reasons


def test_unknown_platform_is_named(copilot: Copilot) -> None:
    with pytest.raises(InvalidRequestError, match="amazon"):
        triage(copilot, "hi", platform="amazon")


def test_with_an_llm_its_validated_json_classification_is_used(build: Callable[..., Copilot]) -> None:
    from bench.openai_server import FakeOpenAIServer

    with FakeOpenAIServer() as llm:
        llm.enqueue('{"intent": "discount_code", "urgency": "medium", "sentiment": "neutral", '
                    '"confidence": 0.93}')
        copilot = build(llm_base_url=llm.base_url, llm_model="fake-model", llm_timeout=2)
        result = triage(copilot, "cái mã này dùng kiểu gì vậy shop")
        assert result.intent == "discount_code" and result.confidence == 0.93
        assert "intent discount_code (0.93, language model)" in result.reasons
        assert llm.history[0]["response_format"] == {"type": "json_object"}
        assert "<message>" in llm.history[0]["messages"][0]["content"]


def test_bad_llm_answers_fall_back_to_local_rules_and_escalations_still_apply(
    build: Callable[..., Copilot]
) -> None:
    from bench.openai_server import FakeOpenAIServer, Reply

    with FakeOpenAIServer() as llm:
        llm.enqueue('{"intent": "teleport", "urgency": "low"}', Reply(status=500), Reply(status=500),
                    Reply(status=500))
        copilot = build(llm_base_url=llm.base_url, llm_model="fake-model", llm_timeout=2)
        first = triage(copilot, "Cho mình hỏi cách tự hủy đơn trên Shopee với?")
        assert first.intent == "cancel_order" and any("local model" in r for r in first.reasons)
        legal = triage(copilot, "Bán hàng giả thế này thì tôi sẽ kiện shop ra tòa!")
        assert legal.urgency == "urgent" and legal.handoff and legal.route == "trust-desk"


@pytest.mark.parametrize(("change", "field"), [
    (lambda text: text.replace("auto_reply_threshold: 0.3", "auto_reply_threshold: 3"),
     "auto_reply_threshold"),
    (lambda text: text.replace("issue_type: order_request", "issue_type: orders", 1),
     "intents.cancel_order.issue_type"),
    (lambda text: text.replace("level: urgent", "level: critical", 1), "urgency_rules.0.level"),
    (lambda text: text.replace("not_after: ['\\b(if", "not_after: ['\\b((if", 1),
     "urgency_rules.2.not_after"),
    (lambda text: text.replace("'\\b(huy|cancel)\\w*\\b'", "'(unclosed'", 1),
     "intents.cancel_order.patterns"),
])
def test_a_bad_triage_table_is_named_with_its_field(tmp_path: Path, change: Any, field: str) -> None:
    from copilot import KnowledgeError
    from copilot.triage.config import TriageConfig

    path = tmp_path / "triage.yaml"
    path.write_text(change(TRIAGE_TABLE), encoding="utf-8")
    assert path.read_text(encoding="utf-8") != TRIAGE_TABLE  # the change applies to the fixture's table
    with pytest.raises(KnowledgeError) as caught:
        TriageConfig.load(path)
    assert caught.value.path.endswith("triage.yaml") and caught.value.field == field


def test_a_message_that_is_none_of_the_needs_is_said_so_and_handed_off(copilot: Copilot) -> None:
    result = triage(copilot, "Recommend a good pho recipe please", platform="livechat")
    assert result.out_of_scope and result.intent == "other", result.reasons
    assert result.handoff and result.auto_reply is None and result.holding_message
    reason = next(r for r in result.reasons if r.startswith("out of scope"))
    assert "scores" in reason and "under the threshold" in reason and "read as other" in reason


def test_a_need_of_the_team_is_not_out_of_scope(copilot: Copilot) -> None:
    for text, intent in (("Cho mình hỏi cách tự hủy đơn trên Shopee với?", "cancel_order"),
                         ("my popup is not showing", "popup_broken"),
                         ("voucher của mình không áp dụng được", "discount_code")):
        result = triage(copilot, text)
        assert not result.out_of_scope and result.intent == intent, (text, result.reasons)


def test_a_reply_written_for_another_need_is_not_sent(make_knowledge: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    """Without the popup FAQs the only ready reply on live chat answers size exchanges; a popup
    question is handed off rather than answered with it."""
    knowledge = make_knowledge({**TRIAGE_DOCS, "faqs/popup-wording.md": None, "faqs/popup.md": None})
    copilot = Copilot(Settings(knowledge_dir=knowledge, index_dir=tmp_path / "index"),
                      embedder=HashingEmbedder())
    copilot.ingest()
    result = triage(copilot, "how do I set the popup colour to green", platform="livechat")
    assert result.intent == "popup_setup" and result.auto_reply is None and result.handoff
    assert any("size-exchange answers size_exchange, not popup_setup" in r for r in result.reasons)
