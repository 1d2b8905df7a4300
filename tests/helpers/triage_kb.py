"""A small triage table, its examples and two ready replies, in the tests' own words: add `TRIAGE_DOCS` to
`make_knowledge` for a knowledge base whose triage the code tests can read end to end (teams, minutes and
messages that appear nowhere in the shipped knowledge); `triage` sends one conversation to a copilot."""

from __future__ import annotations

from typing import Any

from helpers import MINI_FLOW, document

TRIAGE_PLATFORMS = """\
platforms:
  livechat: {title: Live chat}
  shopee: {title: Shopee, marketplace: true}
  email: {title: Email}
"""

# The mini flow whose troubleshoot step answers from the knowledge base: where the bot's answers are drafted.
TRIAGE_FLOW = MINI_FLOW.replace("    goal: Solve the problem.\n",
                                "    goal: Solve the problem.\n    knowledge: true\n")

IF = r"'\b(if|what if|neu)\b'"

TRIAGE_TABLE = rf"""
answer_step: troubleshoot
auto_reply_threshold: 0.3
intents:
  cancel_order:
    issue_type: order_request
    answerable: true
    patterns: ['\b(huy|cancel)\w*\b']
    exemplars: ["I would like to call off this order", "cho mình hủy cái đơn này"]
  size_exchange:
    issue_type: order_request
    answerable: true
    patterns: ['\b(exchange|doi size)\b']
    exemplars: ["can I exchange for another size", "đổi size được không"]
  discount_code:
    issue_type: product_question
    answerable: true
    patterns: ['\b(voucher|discount code)\b']
    exemplars: ["my voucher does not apply", "voucher không áp dụng được"]
  popup_setup:
    issue_type: product_question
    answerable: true
    patterns: ['\b(where do i|how do i) (change|set)\b']
    exemplars: ["which setting edits the popup wording", "how do I set the popup colour"]
  popup_broken:
    issue_type: technical_support
    answerable: false
    patterns: ['\b(not showing|broken|wrong)\b']
    exemplars: ["my popup is not showing", "the popup shows the wrong text"]
  counterfeit_claim:
    issue_type: complaint
    answerable: false
    patterns: ['\b(hang gia|fake)\b']
    exemplars: ["shop bán hàng giả", "you sent me a fake"]
  praise:
    issue_type: idea_suggestion
    answerable: true
    patterns: ['\b(thanks?|thank you|cam on)\b']
    exemplars: ["thank you so much, great work", "cảm ơn shop nhiều"]
  other:
    issue_type: product_question
    answerable: false
    exemplars: ["hello", "xin chào"]
out_of_scope: {{rejects: 0.2, intent: other}}
urgency_rules:
  - {{level: urgent, reason: "court threat", route: trust-desk, handoff: true,
     patterns: ['\b(lawyer|court|se kien)\b']}}
  - {{level: urgent, reason: "till down", handoff: true,
     patterns: ['\b(checkout|till)\b[^.!?]{{0,30}}\b(broke|down)\b',
                '\bbroke\b[^.!?]{{0,20}}\b(checkout|till)\b']}}
  - {{level: high, reason: "parcel arrived smashed", handoff: true, not_after: [{IF}],
     patterns: ['\b(arrived smashed|bi vo)\b']}}
  - {{level: high, reason: "still broken after days", handoff: true,
     patterns: ['\bstill broken\b']}}
  - {{level: medium, reason: "a swap someone must make", handoff: true, not_after: [{IF}],
     patterns: ['\b(could i|can i|can you) (please )?(exchange|swap)\b|\bdoi cho em\b']}}
repeat_contact: ['\b(writing again|second time|nhan lan (2|3))\b']
sentiment:
  negative: ['!{{2,}}', '\b(terrible|buc minh)\b']
  positive: ['\b(thanks?|thank you|cam on)\b']
routing:
  default: front-desk
  by_issue_type: {{technical_support: tech-desk}}
  marketplace_by_issue_type: {{order_request: market-desk}}
  vip_problem: senior-desk
  escalate: {{front-desk: second-line, market-desk: second-line, tech-desk: second-line}}
senior:
  tiers: [vip]
  problems: [complaint, technical_support]
feedback_issue_types: [idea_suggestion]
sla_minutes:
  chat: {{urgent: 5, high: 20, medium: 90, low: 600}}
  email: {{urgent: 10, high: 40, medium: 180, low: 1200}}
sla_channel: {{email: email}}
holding_message:
  en: "Hello {{customer_name}}, a person from the desk answers within {{wait}}."
  vi: "Chào {{customer_name}}, người của quầy sẽ trả lời trong {{wait}}."
thanks_message:
  en: "Much appreciated, {{customer_name}}: the desk smiles."
  vi: "Quầy cảm ơn {{customer_name}} nhiều lắm."
wait_words:
  en: {{minutes: "{{n}} min", hours: "{{n}} hrs"}}
  vi: {{minutes: "{{n}} phút", hours: "{{n}} tiếng"}}
"""


def _example(text: str, intent: str, issue_type: str) -> str:
    """One labelled message; every example is medium and neutral, so the fixture's model learns the intent and
    the issue type only (urgency starts at medium, the tone comes from the table's cues)."""
    return f'  - {{text: "{text}", intent: {intent}, issue_type: {issue_type}, urgency: medium, ' \
        "sentiment: neutral}\n"


EXAMPLE_ROWS = [
    ("how can I cancel an order", "cancel_order", "order_request"),
    ("mình muốn hủy đơn vừa đặt trên sàn", "cancel_order", "order_request"),
    ("shop oi cho minh huy dum cai don nay", "cancel_order", "order_request"),
    ("nếu đơn chưa giao thì hủy đơn thế nào", "cancel_order", "order_request"),
    ("if I change my mind, can I still cancel the order", "cancel_order", "order_request"),
    ("i want to exchange the ring for a smaller size", "size_exchange", "order_request"),
    ("size exchange policy", "size_exchange", "order_request"),
    ("shop đổi size áo cho em được không", "size_exchange", "order_request"),
    ("the voucher code is not applied at checkout", "discount_code", "product_question"),
    ("mã voucher báo không hợp lệ", "discount_code", "product_question"),
    ("where can I edit the language of the popup", "popup_setup", "product_question"),
    ("how do I set the popup text to French", "popup_setup", "product_question"),
    ("the popup is not showing on my store", "popup_broken", "technical_support"),
    ("popup text shows in the wrong language", "popup_broken", "technical_support"),
    ("your app broke our checkout", "popup_broken", "technical_support"),
    ("the popup is still broken after a week", "popup_broken", "technical_support"),
    ("shop giao hàng giả cho tôi", "counterfeit_claim", "complaint"),
    ("this is a fake product, not the brand I paid for", "counterfeit_claim", "complaint"),
    ("hàng nhái, hàng giả, tôi sẽ báo", "counterfeit_claim", "complaint"),
    ("thanks, your team fixed my popup, amazing", "praise", "idea_suggestion"),
    ("cảm ơn shop, áo đẹp lắm", "praise", "idea_suggestion"),
    ("it would be great if the popup supported video", "praise", "idea_suggestion"),
    ("shop nên thêm màu đen, mình nghĩ sẽ hay", "praise", "idea_suggestion"),
    ("hello there", "other", "product_question"),
    ("xin chào shop", "other", "product_question"),
]
TRIAGE_EXAMPLES = "examples:\n" + "".join(_example(*row) for row in EXAMPLE_ROWS)

SIZE_EXCHANGE = document(
    "size-exchange", "Size exchange policy",
    "# Size exchange policy\n\n## Reply (English)\n"
    "Unworn items with their tags can be exchanged for another size within seven days of delivery.",
    kind="macro", platforms="[livechat, shopee]", steps="[troubleshoot]", language="[en]",
    answers="[size_exchange]",
)
CANCEL_HOW_TO = document(
    "cancel-how-to", "Hủy đơn: người mua tự hủy",
    "# Hủy đơn\n\n## Trả lời mẫu\n"
    "Dạ anh/chị tự gửi yêu cầu hủy trong mục Đơn mua của ứng dụng ạ.",
    kind="macro", platforms="[shopee]", steps="[troubleshoot]", language="[vi]", answers="[cancel_order]",
)

POPUP_WORDING = document(
    "popup-wording", "Changing the popup's words",
    "# Popup wording\n\n## Reply (English)\n"
    "Every word of the popup, in each language, is edited under Popup > Texts; save and it shows at once.",
    kind="faq", platforms="[livechat]", steps="[troubleshoot]", language="[en]", answers="[popup_setup]",
)
VOUCHER_CHECK = document(
    "voucher-check", "Voucher không áp dụng",
    "# Voucher\n\n## Trả lời mẫu\n"
    "Dạ voucher chỉ chọn được khi giỏ hàng đủ giá trị tối thiểu ghi trên thẻ voucher ạ.",
    kind="macro", platforms="[shopee]", steps="[troubleshoot]", language="[vi]",
    answers="[discount_code]",
)

TRIAGE_DOCS = {
    "triage.yaml": TRIAGE_TABLE,
    "flows/livechat.yaml": TRIAGE_FLOW,
    "platforms.yaml": TRIAGE_PLATFORMS,
    "triage-examples/fixture.yaml": TRIAGE_EXAMPLES,
    "macros/size-exchange.md": SIZE_EXCHANGE,
    "macros/cancel-how-to.md": CANCEL_HOW_TO,
    "faqs/popup-wording.md": POPUP_WORDING,
    "macros/voucher-check.md": VOUCHER_CHECK,
}


def triage(copilot: Any, text: str, platform: str = "shopee", tier: str = "new", name: str = "Lan",
           history: list[dict[str, str]] | None = None) -> Any:
    """The triage of a conversation ending with the customer's `text`."""
    from copilot.triage.contracts import TriageRequest

    messages = [*(history or []), {"role": "customer", "text": text}]
    request = TriageRequest.model_validate({"platform": platform, "customer": {"name": name, "tier": tier},
                                            "messages": messages})
    return copilot.triage(request)
