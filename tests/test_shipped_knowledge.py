"""The shipped knowledge base: complete, consistent with the contract, and found by customers' words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import REPO, SHIPPED_KNOWLEDGE
from helpers.triage_kb import triage

from copilot import KnowledgeBase
from copilot.contracts import Message
from copilot.flow.tracker import StepTracker
from copilot.retrieval.lexical import lexical_tokens

CONTRACT_STEPS = ["greeting", "empathy", "probing", "set_expectation", "troubleshoot", "update_result",
                  "achieve_more", "farewell"]
ALLOWED_SLOTS = {"customer_name", "agent_name", "brand"}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load(SHIPPED_KNOWLEDGE)


def test_default_flow_has_the_eight_contract_steps_in_order(kb: KnowledgeBase) -> None:
    flow = kb.flows["livechat"]
    assert flow.step_ids == CONTRACT_STEPS
    assert [step.id for step in flow.steps if step.review_ask] == ["farewell"]


def test_every_step_has_templates_in_both_languages_with_known_slots_only(kb: KnowledgeBase) -> None:
    for step in kb.flows["livechat"].steps:
        assert set(step.templates) >= {"en", "vi"}, step.id
        for templates in step.templates.values():
            assert templates, step.id
            for template in templates:
                assert set(re.findall(r"\{(\w+)\}", template)) <= ALLOWED_SLOTS, template


# A template is sent whatever the conversation shows, so it may promise or ask but never report as done
# something the agent may not have done (the agent's own edit says that): "I have now repaired it", "em đã
# khắc phục được rồi".
DONE_CLAIM = re.compile(
    r"\b(i.ve|i have|we.ve|we have)( just| now| already)? "
    r"(fixed|solved|found|checked|applied|refunded|cancell?ed)\b"
    r"|\b(everything|all) is done\b|\bđã (xử lý xong|tìm ra|xác định được|hoàn tất|sửa xong|hoàn tiền|hủy)",
    re.IGNORECASE)


def test_no_step_template_reports_an_action_as_already_done(kb: KnowledgeBase) -> None:
    claims = [template for step in kb.flows["livechat"].steps for templates in step.templates.values()
              for template in templates if DONE_CLAIM.search(template)]
    assert DONE_CLAIM.search("Good, I have now fixed your popup.")  # the check can fail
    assert claims == []


def test_no_template_or_answer_reply_reports_an_unshown_action(kb: KnowledgeBase) -> None:
    """The shipped guardrail against reporting an action the conversation does not show (`unshown_action`)
    never fires on what the local composer sends: every template, answer-unit reply and facet."""
    from copilot.guardrails.engine import GuardrailEngine
    from copilot.understand.units import answer_units

    engine = GuardrailEngine.from_knowledge(kb)

    def claims(text: str, platform: str) -> bool:
        context = engine.context(text, platform=platform, step="update_result", said=[])
        return "unshown_action" in engine.check(text, context).rules()

    texts = [(t, "shopee" if language == "vi" else "livechat") for step in kb.flows["livechat"].steps
             for language, templates in step.templates.items() for t in templates]
    for unit in answer_units(kb.documents, kb.sections):
        for language, platform in (("en", "livechat"), ("vi", "shopee")):
            reply = unit.reply(language)
            texts += [(reply[1], platform)] if reply else []
            texts += [(text, platform) for _, text in unit.facets.get(language, [])]
    assert len(texts) > 150 and claims("Good news, I've refunded the charge.", "livechat")  # it can fail
    assert [text for text, platform in texts if claims(text, platform)] == []


def test_every_step_has_its_playbook(kb: KnowledgeBase) -> None:
    covered = {step for d in kb.documents if d.meta.kind == "playbook" for step in d.meta.steps}
    assert covered >= set(CONTRACT_STEPS)


def test_at_least_thirty_macros_and_faqs_for_both_kinds_of_team(kb: KnowledgeBase) -> None:
    answers = [d for d in kb.documents if d.meta.kind in ("macro", "faq")]
    assert len(answers) >= 30
    platforms = {p for d in answers for p in d.meta.platforms}
    assert {"shopee", "livechat"} <= platforms


def test_policies_cover_the_marketplace_rules_and_operations(kb: KnowledgeBase) -> None:
    ids = {d.id for d in kb.documents}
    assert {"marketplace-chat-rules", "shopee-cancel-policy", "shopee-return-refund-policy",
            "shopee-full-exchange-policy", "shopee-partial-exchange-policy", "triage-categories",
            "authority-escalation", "service-levels", "data-security"} <= ids


def test_documents_have_no_template_placeholders(kb: KnowledgeBase) -> None:
    for document in kb.documents:
        assert not re.search(r"\[(Customer|Your|Feature|Name)[^\]]*\]", document.body), document.id
        assert set(re.findall(r"\{(\w+)\}", document.body)) <= ALLOWED_SLOTS, document.id


def test_the_shipped_shorthand_and_synonyms_are_searched_in_both_forms(kb: KnowledgeBase) -> None:
    assert lexical_tokens("ko dc", kb.search_words)[:2] == ["khong", "duoc"]
    assert {"cancel", "huy"} <= set(lexical_tokens("cancel the order", kb.search_words))
    assert lexical_tokens("đơn là gì", kb.search_words) == ["don", "gi", "don_gi"]  # "là" is a stop word


def test_the_shipped_cues_read_the_customers_chat_shorthand_written_out(kb: KnowledgeBase) -> None:
    said = [Message(role="customer", text="đơn của em chưa tới"),
            Message(role="agent", text="Dạ chị cho em xin mã đơn để em kiểm tra ạ."),
            Message(role="customer", text="đơn vẫn ko nhúc nhích")]  # the cue says "khong nhuc nhich"
    reading = StepTracker(kb.flows["livechat"]).read(said, similarities=False)
    assert reading.cued == "set_expectation"


@pytest.mark.slow
def test_unaccented_cancel_after_handover_finds_the_cancel_policy(shipped_copilot: Any) -> None:
    hits = shipped_copilot.search("khach muon huy don nhung da giao cho van chuyen", k=3, platform="shopee")
    top_docs = [hit.chunk.doc_id for hit in hits]
    assert top_docs[0] in {"macro-cancel-after-handover", "shopee-cancel-policy"}
    assert {"macro-cancel-after-handover", "shopee-cancel-policy"} & set(top_docs[:2])


@pytest.mark.slow
def test_popup_question_finds_the_popup_faq_first(shipped_copilot: Any) -> None:
    hits = shipped_copilot.search("popup not showing on my store", k=3, platform="livechat")
    assert hits[0].chunk.doc_id == "faq-popup-not-showing"


@pytest.mark.slow
def test_hybrid_retrieval_meets_its_goal_and_beats_each_side(shipped_copilot: Any) -> None:
    from evals.retrieval import load_retrieval_cases, score_cases

    known = {d.id for d in shipped_copilot.knowledge.documents}
    cases = load_retrieval_cases([REPO / "evals" / "datasets" / "retrieval.jsonl"], known)
    assert len(cases) >= 100
    scores = {mode: score_cases(shipped_copilot, cases, mode) for mode in ("dense", "bm25", "hybrid")}
    hybrid = scores["hybrid"]
    assert hybrid.hits[3] >= 0.90
    assert hybrid.mrr > scores["dense"].mrr and hybrid.mrr > scores["bm25"].mrr
    assert hybrid.hits[3] >= max(scores["dense"].hits[3], scores["bm25"].hits[3])


# The shipped triage table (knowledge/triage.yaml and triage-examples/), read by the real model: its intents,
# teams, minutes and messages. What the triage code does with any table is tested in test_triage.py.


def test_the_shipped_triage_table_and_its_examples_load() -> None:
    from copilot.triage.config import TriageConfig
    from copilot.triage.model import EXAMPLES_DIR, load_examples

    config = TriageConfig.load(SHIPPED_KNOWLEDGE / "triage.yaml")
    examples = load_examples(SHIPPED_KNOWLEDGE / EXAMPLES_DIR, config.intents)
    assert {example.intent for example in examples} == set(config.intents)
    assert config.out_of_scope is not None and config.out_of_scope.intent in config.intents


@pytest.mark.slow
def test_shipped_triage_answers_a_shopee_cancel_question_from_the_how_to_macro(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "Cho mình hỏi muốn tự hủy đơn đã đặt trên Shopee thì làm thế nào?")
    assert (result.urgency, result.issue_type, result.intent, result.handoff) == (
        "medium", "order_request", "cancel_order", False)
    assert result.language == "vi" and result.route == "marketplace-ops" and result.sla_minutes == 120
    assert result.auto_reply is not None
    assert "tự" in result.auto_reply.text and "hủy" in result.auto_reply.text
    assert "macro-cancel-how-to" in [c.id for c in result.auto_reply.citations]  # explains both order states
    assert "hủy đơn giúp shop" not in result.auto_reply.text.lower()


@pytest.mark.slow
def test_shipped_triage_sends_a_legal_threat_to_legal_trust_in_15_minutes(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "Bán hàng giả thế này thì tôi sẽ kiện shop ra tòa!")
    assert (result.urgency, result.issue_type, result.handoff, result.route) == (
        "urgent", "complaint", True, "legal-trust")
    assert result.sla_minutes == 15 and result.auto_reply is None
    assert "15 phút" in result.holding_message and any("legal threat" in r for r in result.reasons)


@pytest.mark.slow
def test_shipped_triage_sends_a_vip_broken_checkout_to_cs_l2(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "Your app broke our checkout, customers cannot pay!",
                    platform="livechat", tier="vip", name="Mia")
    assert (result.urgency, result.issue_type, result.handoff, result.route) == (
        "urgent", "technical_support", True, "cs-l2")
    assert result.holding_message.startswith("Thanks for reaching out, Mia!")
    assert "15 minutes" in result.holding_message


@pytest.mark.slow
def test_shipped_triage_escalates_a_repeated_voucher_contact_to_cs_l2(shipped_copilot: Any) -> None:
    first = triage(shipped_copilot, "voucher của mình không áp dụng được")
    again = triage(shipped_copilot,
                   "Mình nhắn mấy lần rồi mà voucher vẫn chưa áp dụng được")
    assert first.urgency == "medium" and again.handoff
    assert again.urgency == "high" and again.route == "cs-l2"


@pytest.mark.slow
def test_shipped_triage_reads_a_repeat_about_a_small_issue_as_high_not_urgent(shipped_copilot: Any) -> None:
    """The model reads "again" one level up from the issue; the repeat rule only makes sure of high."""
    again = triage(shipped_copilot,
                   "Lần thứ 2 em hỏi rồi: voucher 20k của shop nhập vào báo không hợp lệ")
    assert again.urgency == "high" and any("repeated contact" in r for r in again.reasons)


@pytest.mark.slow
def test_shipped_triage_tells_a_vip_question_from_a_vip_problem(shipped_copilot: Any) -> None:
    question = triage(shipped_copilot, "Where do I change the popup text to French?", platform="livechat",
                      tier="vip")
    problem = triage(shipped_copilot, "The popup text shows in the wrong language on our store",
                     platform="livechat", tier="vip")
    assert question.urgency == "medium" and question.route != "cs-l2"
    assert problem.urgency == "high" and problem.route == "cs-l2" and problem.handoff


@pytest.mark.slow
def test_shipped_legal_rule_does_not_read_an_expected_date_as_a_lawsuit(shipped_copilot: Any) -> None:
    """'dự kiến' (expected) and 'điều kiện' (condition) fold to the letters of 'kiện' (to sue)."""
    for text in ("đơn dự kiến giao hôm nay mà chưa thấy", "don du kien giao hom nay ma chua thay",
                 "mã giảm giá báo chưa đủ điều kiện áp dụng"):
        assert triage(shipped_copilot, text).urgency != "urgent", text
    assert triage(shipped_copilot, "toi se kien shop ra toa").route == "legal-trust"


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "Shop không hoàn tiền thì tôi gửi đơn kiện, có đủ video bằng chứng.",
    ("Phiếu giao hàng shop gửi kèm lại in họ tên, số điện thoại và địa chỉ "
     "của người khác, không phải của tôi."),
    "Your order confirmation shows another customer's address and phone number, not mine.",
])
def test_shipped_triage_sends_a_lawsuit_or_someone_elses_data_to_legal_trust(shipped_copilot: Any,
                                                                              text: str) -> None:
    result = triage(shipped_copilot, text)
    assert (result.urgency, result.route, result.handoff) == ("urgent", "legal-trust", True), result.reasons


@pytest.mark.slow
def test_shipped_triage_does_not_read_a_gdpr_question_as_a_data_incident(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "Do you store my customers' data? We need to stay GDPR compliant.")
    assert result.urgency != "urgent" and not any("incident" in reason for reason in result.reasons)


@pytest.mark.slow
def test_shipped_triage_sends_a_request_to_act_on_ones_own_order_to_a_person(shipped_copilot: Any) -> None:
    for text in ("The ring is a little loose, could I exchange it for a size 6?",
                 "Em mặc size M hơi chật, shop đổi cho em sang L được không ạ?"):
        result = triage(shipped_copilot, text)
        assert result.handoff and result.auto_reply is None, text
    general = triage(shipped_copilot, "Chính sách đổi size của shop như thế nào ạ?")
    assert not general.handoff and general.auto_reply is not None


@pytest.mark.slow
def test_shipped_triage_thanks_compliments_in_the_shipped_words(shipped_copilot: Any) -> None:
    thanks = (("Nhận hàng rồi nha shop, áo đẹp lắm, cảm ơn shop nhiều ❤️", "cảm ơn"),
              ("Just wanted to say your team fixed my popup in five minutes. Amazing, thank you!", "Thank"))
    for text, words in thanks:
        result = triage(shipped_copilot, text, platform="livechat", name="Vy")
        assert (result.urgency, result.handoff, result.holding_message) == ("low", False, None), text
        assert words in result.auto_reply.text and "Vy" in result.auto_reply.text
    upset = triage(shipped_copilot, "Thanks for nothing, still broken after a week!!", platform="livechat")
    assert upset.handoff and upset.auto_reply is None
    assert upset.issue_type != "idea_suggestion", upset.reasons  # pressing is not feedback


@pytest.mark.slow
def test_shipped_email_service_level_is_240_minutes_for_medium(shipped_copilot: Any) -> None:
    assert triage(shipped_copilot, "my popup is not showing", platform="email").sla_minutes == 240


@pytest.mark.slow
def test_shipped_triage_reads_an_idea_as_a_low_feature_request(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "It would be great if the popup supported video backgrounds",
                    platform="livechat")
    assert (result.urgency, result.issue_type, result.intent) == ("low", "idea_suggestion", "feature_request")


@pytest.mark.slow
def test_shipped_triage_lowers_compliments_and_ideas_the_model_reads_as_medium(shipped_copilot: Any) -> None:
    for text in ("app nen co them che do tat popup vao cuoi tuan, minh thay se tien hon nhieu",
                 ("Cảm ơn bạn hỗ trợ nhiệt tình tuần trước nha, "
                  "từ khi có popup mới lượt đăng ký tăng hẳn.")):
        result = triage(shipped_copilot, text, platform="livechat")
        assert (result.issue_type, result.urgency) == ("idea_suggestion", "low"), (text, result.reasons)


@pytest.mark.slow
def test_shipped_repeat_rule_tells_buying_again_from_contacting_again(shipped_copilot: Any) -> None:
    bought = triage(shipped_copilot, "kem chong nang dung thich lam shop, day la lan thu 3 minh mua roi",
                    platform="tiktok")
    assert not any("repeated contact" in reason for reason in bought.reasons), bought.reasons
    again = triage(shipped_copilot, "voucher van loi, em nhan lan nay la lan 3 roi do", platform="shopee")
    assert any("repeated contact" in reason for reason in again.reasons), again.reasons


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "Two of our stores were billed twice for August, invoices attached.",
    "Tracking says the parcel was delivered yesterday, but nothing came to my door.",
    "I ordered the black backpack and the box has a pink one in it.",
    "Nồi cơm nhận hôm qua nấu lần đầu bị khét đáy, bảo hành thế nào shop?",
])
def test_shipped_triage_raises_a_double_charge_or_a_wrong_missing_or_faulty_item(
    shipped_copilot: Any, text: str
) -> None:
    result = triage(shipped_copilot, text)
    assert result.urgency in ("high", "urgent") and result.handoff, result.reasons


@pytest.mark.slow
@pytest.mark.parametrize(("text", "platform"), [
    ("If my kettle arrives damaged, how do I get a refund?", "lazada"),
    ("Nếu nhận hàng bị vỡ thì em được hoàn tiền thế nào ạ?", "shopee"),
    ("neu muon huy don thi lam sao shop", "shopee"),
])
def test_shipped_triage_answers_a_question_about_what_could_go_wrong(shipped_copilot: Any, text: str,
                                                                        platform: str) -> None:
    """"If it arrives damaged" asks for the policy; the damaged-item and cancel rules are for reports."""
    result = triage(shipped_copilot, text, platform=platform)
    assert result.urgency == "medium" and not result.handoff, result.reasons
    assert result.auto_reply is not None and result.auto_reply.citations


@pytest.mark.slow
def test_shipped_triage_escalates_a_report_even_when_a_later_sentence_asks_what_if(
    shipped_copilot: Any
) -> None:
    result = triage(shipped_copilot, "My blender arrived damaged. If I send it back, do I get a refund?",
                    platform="lazada")
    assert result.urgency == "high" and result.handoff
    assert any("damaged, wrong or missing item ('arrived damaged')" in reason for reason in result.reasons)


@pytest.mark.slow
def test_shipped_triage_hands_off_a_message_that_is_none_of_the_needs(shipped_copilot: Any) -> None:
    result = triage(shipped_copilot, "who won the football match last night", platform="livechat")
    assert result.out_of_scope and result.intent == "other", result.reasons
    assert result.handoff and result.auto_reply is None and result.holding_message
    reason = next(r for r in result.reasons if r.startswith("out of scope"))
    assert "scores" in reason and "under the threshold" in reason


@pytest.mark.slow
def test_shipped_triage_keeps_the_teams_needs_in_scope(shipped_copilot: Any) -> None:
    for text in ("Cho mình hỏi muốn tự hủy đơn đã đặt trên Shopee thì làm thế nào?",
                 "my popup is not showing", "don cua em dang o dau vay shop"):
        result = triage(shipped_copilot, text)
        assert not result.out_of_scope and result.intent != "other", (text, result.reasons)
