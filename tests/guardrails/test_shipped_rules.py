"""The shipped rule packs (`knowledge/rules/`): each rule with positives and hard negatives, in English,
Vietnamese and unaccented Vietnamese. How the engine runs any pack is tested on the tests' own packs
(`test_rules.py`): editing the shipped rules may fail this file, never that one."""

from __future__ import annotations

import pytest
from helpers import SHIPPED_KNOWLEDGE

from copilot.guardrails.engine import GuardrailEngine
from copilot.knowledge import KnowledgeBase


@pytest.fixture(scope="module")
def engine() -> GuardrailEngine:
    return GuardrailEngine.from_knowledge(KnowledgeBase.load(SHIPPED_KNOWLEDGE))


def rules(
    engine: GuardrailEngine, text: str, platform: str = "shopee", step: str = "troubleshoot"
) -> list[str]:
    return engine.check(text, engine.context(text, platform=platform, step=step)).rules()


@pytest.mark.parametrize("text", [
    "Anh/chị hủy đơn giúp shop nhé",
    "Chị vui lòng hủy đơn để shop lên đơn mới ạ",
    "ban huy don di nhe roi dat lai size M",
    "Please cancel the order and place a new one.",
    "a/c bam huy roi dat lai giup shop nha",
])
def test_asking_the_buyer_to_cancel_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "buyer_cancel_request" in rules(engine, text)


@pytest.mark.parametrize("text", [
    ("Nếu anh/chị muốn hủy, anh/chị có thể tự gửi yêu cầu Hủy đơn "
     "trên ứng dụng ạ."),
    "Đơn đã giao cho đơn vị vận chuyển nên không thể hủy được ạ.",
    "neu ban muon huy thi ban co the tu bam Huy don trong chi tiet don hang nhe",
    "If you'd like to cancel, you can send the request yourself with the Cancel order button.",
])
def test_cancel_explained_as_buyer_action_is_allowed(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text) == []


def test_cancel_rule_is_only_for_marketplaces(engine: GuardrailEngine) -> None:
    assert rules(engine, "Please cancel the subscription and reinstall.", platform="livechat") == []


@pytest.mark.parametrize("text", [
    "Anh/chị kết bạn Zalo 0901 234 567 để shop tư vấn nhé",
    "chi chuyen khoan truoc cho shop qua stk nay nhe",
    "You can order on our website, it's cheaper there.",
    "Inbox fanpage Facebook của shop để đặt hàng ạ",
])
def test_moving_the_sale_off_the_platform_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "off_platform_transaction" in rules(engine, text)


@pytest.mark.parametrize("text", [
    "Shop sẽ trả lời anh/chị ngay trong khung chat Shopee này ạ.",
    "Anh/chị vui lòng không chuyển khoản ra ngoài sàn nhé.",
    "You can pay with ShopeePay or cash on delivery in the app.",
])
def test_platform_chat_and_payment_are_allowed(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text) == []


@pytest.mark.parametrize("text", [
    "Cho shop xin số điện thoại để shipper liên hệ ạ",
    "sdt cua ban la gi vay",
    "Could you send me your address so we can resend it?",
])
def test_asking_for_phone_or_address_on_a_marketplace_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "contact_info_request" in rules(engine, text)


def test_store_url_and_email_on_live_chat_are_fine(engine: GuardrailEngine) -> None:
    text = "Could you share your store URL and the email you use to log in?"
    assert rules(engine, text, platform="livechat", step="probing") == []


def test_asking_for_the_order_code_is_fine(engine: GuardrailEngine) -> None:
    assert rules(engine, "Anh/chị gửi giúp shop mã đơn hàng nhé") == []


@pytest.mark.parametrize("text", [
    "Hi [Customer's Name], thanks for reaching out!",
    "This is {agent_name} from Avada.",
    "Hello <name>, your order is on its way.",
    "You haven't activated [Feature X] yet.",
])
def test_unfilled_template_slots_are_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "unfilled_placeholder" in rules(engine, text, platform="livechat")


@pytest.mark.parametrize("text", [
    "Anh/chị bấm nút [Trả hàng/Hoàn tiền] trên đơn nhé.",
    "Go to Online Store > Themes > Customize and open App embeds.",
    "Here is the [setup guide](https://help.example.com/popup).",
    "Thank you so much <3",
])
def test_button_labels_links_and_menu_paths_are_not_placeholders(engine: GuardrailEngine, text: str) -> None:
    assert "unfilled_placeholder" not in rules(engine, text, platform="livechat")


@pytest.mark.parametrize("text", [
    "Could you send me your Shopify password so I can log in?",
    "Cho em xin mã OTP để kiểm tra nhé",
    "What's the CVV on your card?",
])
def test_asking_for_credentials_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "credential_request" in rules(engine, text, platform="livechat")


@pytest.mark.parametrize("text", [
    "We will never ask for your password or OTP.",
    "Could you add us as a collaborator so we can check the theme?",
    "Anh/chị đừng chia sẻ mã OTP cho bất kỳ ai nhé.",
])
def test_warnings_about_credentials_are_allowed(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text, platform="livechat") == []


@pytest.mark.parametrize("text", [
    "That's your fault, you should have read the instructions.",
    "Lỗi là do anh/chị không đọc kỹ hướng dẫn.",
    "shop da noi roi ma, ban tu lam sai chu shop khong sai",
])
def test_blaming_the_customer_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert "argumentative_tone" in rules(engine, text)


@pytest.mark.parametrize("text", [
    "I'm so sorry, that was our mistake and I've fixed it.",
    "Dạ lỗi là do bên em, em thành thật xin lỗi anh/chị ạ.",
    "Could you please check the display setting once more?",
])
def test_apologies_and_neutral_instructions_are_allowed(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text) == []


@pytest.mark.parametrize("text", [
    "Thanks so much, have a great day!",
    "Cảm ơn anh/chị đã liên hệ, chúc anh/chị một ngày vui vẻ!",
    "I'll review your account settings tomorrow. Bye!",
])
def test_farewell_without_a_review_ask_is_blocked(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text, platform="livechat", step="farewell") == ["review_ask_missing"]


@pytest.mark.parametrize("text", [
    "Thank you! If you're happy with our support, we'd truly appreciate a quick review.",
    "Would you mind rating us on the Shopify App Store?",
    "Anh/chị đánh giá 5 sao giúp shop nhé!",
    "Nếu hài lòng, anh/chị để lại nhận xét cho shop nha.",
    "cam on chi, chi danh gia giup shop nhe",
])
def test_every_form_of_review_ask_counts(engine: GuardrailEngine, text: str) -> None:
    assert rules(engine, text, platform="livechat", step="farewell") == []


def test_review_ask_is_only_required_at_farewell(engine: GuardrailEngine) -> None:
    assert rules(engine, "Let me check that for you.", platform="livechat", step="set_expectation") == []


def test_violation_has_message_severity_and_the_span_of_the_offending_text(engine: GuardrailEngine) -> None:
    text = "Dạ shop hiểu ạ. Anh/chị hủy đơn giúp shop nhé."
    result = engine.check(text, engine.context(text, platform="shopee", step="troubleshoot"))
    assert not result.allowed
    violation = result.violations[0]
    assert violation.severity == "block" and "hủy" in violation.message
    start, end = violation.span
    assert "hủy đơn giúp shop" in text[start:end]


@pytest.mark.parametrize(("text", "platform", "step"), [
    ("Dạ đơn của chị đã được bàn giao cho đơn vị vận chuyển nên hệ thống "
     "không còn cho phép hủy nữa ạ.", "shopee", "troubleshoot"),
    ("Dạ em hiểu, quyền lợi của anh vẫn được đảm bảo ạ.", "shopee", "empathy"),
    ("Dạ chờ lâu như vậy thì đúng là rất khó chịu ạ.", "shopee", "empathy"),
    ("Chị bấm Trả hàng/Hoàn tiền, shop đồng ý, sau đó chị đặt lại đơn mới nhé.",
     "shopee", "troubleshoot"),
    ("Thanks Anna! If you have a minute, a quick review of our app on the Shopify App Store would really "
     "help our team.", "livechat", "farewell"),
])
def test_compliant_lines_that_once_tripped_a_rule_stay_allowed(
    engine: GuardrailEngine, text: str, platform: str, step: str
) -> None:
    """Folding merges words (lợi/lỗi, đó/do, đúng/đừng): these regressions must not come back."""
    assert rules(engine, text, platform=platform, step=step) == []


@pytest.mark.parametrize(("text", "platform"), [
    ("Good news, I've refunded the duplicate charge to your card.", "livechat"),
    ("I have cancelled your order, you won't be charged.", "livechat"),
    ("We've fixed the issue on your store.", "livechat"),
    ("Dạ shop đã hoàn tiền cho chị rồi ạ.", "shopee"),
    ("Em đã sửa xong lỗi trên cửa hàng rồi ạ.", "livechat"),
    ("Dạ shop đã gửi lại hàng mới cho chị nhé.", "shopee"),
])
def test_a_draft_never_reports_an_unshown_action_as_done(engine: GuardrailEngine, text: str,
                                                         platform: str) -> None:
    context = engine.context(text, platform=platform, step="update_result", said=["hi, I need help"])
    assert "unshown_action" in engine.check(text, context).rules()
    shown = engine.context(text, platform=platform, step="update_result", said=[text])
    assert "unshown_action" not in engine.check(text, shown).rules()  # the conversation already says it
    unknown = engine.context(text, platform=platform, step="update_result")
    assert "unshown_action" not in engine.check(text, unknown).rules()  # an agent's own reply


@pytest.mark.parametrize("text", [
    "Once the shop agrees, the platform refunds you to your original payment method.",
    "Dạ khi shop đồng ý yêu cầu, sàn sẽ hoàn tiền cho chị ạ.",
    "Have you already refunded it?",
    "I haven't cancelled anything yet.",
])
def test_future_conditional_and_asked_actions_are_not_claims(engine: GuardrailEngine, text: str) -> None:
    context = engine.context(text, platform="shopee", step="update_result", said=[])
    assert "unshown_action" not in engine.check(text, context).rules()
