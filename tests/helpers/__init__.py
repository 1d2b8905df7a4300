"""What tests share besides fixtures: the repository's paths and a small knowledge base's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHIPPED_KNOWLEDGE = REPO / "knowledge"


MINI_FLOW = """\
id: livechat
title: Live chat
steps:
  - id: greeting
    title: Greeting
    goal: Greet the customer.
    next: [troubleshoot]
    templates: {en: ["Hi {customer_name}"], vi: ["Chào {customer_name}"]}
  - id: troubleshoot
    title: Troubleshoot
    goal: Solve the problem.
    next: [farewell]
  - id: farewell
    title: Farewell
    goal: Thank and ask for a review.
    review_ask: true
"""

MINI_SECTIONS = """\
reply: [reply, trả lời mẫu, example lines]
forbidden: ["don't", không nên]
"""

MINI_PLATFORMS = """\
platforms:
  livechat: {title: Live chat}
  shopee: {title: Shopee, marketplace: true}
"""


def document(doc_id: str, title: str, body: str, **meta: Any) -> str:
    """Markdown text of a knowledge document with front matter."""
    lines = ["---", f"id: {doc_id}", f'title: "{title}"', f"kind: {meta.pop('kind', 'policy')}"]
    lines += [f"{key}: {value}" for key, value in meta.items()]
    return "\n".join([*lines, "---", body, ""])


MINI_DOCS = {
    "policies/shopee-cancel.md": document(
        "shopee-cancel", "Shopee: hủy đơn hàng",
        "# Shopee cancel\n\n## Hủy đơn\n"
        "Người mua tự gửi yêu cầu hủy đơn trên ứng dụng. "
        "Đơn đã giao cho đơn vị vận chuyển thì không thể hủy.\n\n"
        "## Don't\nNever ask the buyer to cancel.",
        platforms="[shopee]", steps="[troubleshoot]", language="[vi, en]",
    ),
    "faqs/popup.md": document(
        "popup-not-showing", "Popup not showing on the store",
        "# Popup\n\n## Common causes\n"
        "The app embed is disabled in the theme editor, or display rules exclude the page.\n\n"
        "## Fix\nEnable the app embed and clear the cache.",
        kind="faq", platforms="[livechat]", language="[en]",
    ),
    "playbooks/tone.md": document(
        "tone", "Tone of voice", "# Tone\n\n## Always\nBe friendly and never argue with the customer.",
        kind="playbook",
    ),
}


# The mini knowledge's rule packs, in the tests' own words (never the shipped `knowledge/rules/`): one rule of
# each kind the code runs. A required phrase at the review-ask steps, repaired from the flow's template; a
# left-over slot matched as typed and filled from the request; a phrase forbidden on every platform; and, on
# marketplaces only, a phrase with exceptions (`unless`) and a phrase that fires whatever they say (`always`).
MINI_RULES = {
    "rules/mini-flow.yaml": r"""description: The mini flow's rule.
rules:
  - id: farewell_review_ask
    type: required
    scope: {steps: review_ask}
    repair: append_template
    message: {en: "Close with a request for a review.", vi: "Kết thúc bằng lời mời đánh giá."}
    patterns: ['\b(review|rating)\b', '\b(danh gia|cham sao)\b']
    unless: ['\bthanks for (the|your) (review|rating)\b', '\bcam on\b[^.!?]{0,15}\bda (danh gia|cham sao)\b']
""",
    "rules/mini-general.yaml": r"""description: The mini rules for every platform and step.
rules:
  - id: leftover_slot
    type: forbidden
    match: raw
    repair: fill_slots
    message: {en: "A template slot is still in the text.", vi: "Văn bản còn chỗ trống của mẫu câu."}
    patterns: ['\{\w+\}', '\[[^\]\n]{1,30}\](?!\()', '<\w[\w ]{0,20}>', '(?-i:\b[A-Z]+_[A-Z]+\b)']
  - id: secret_code_request
    type: forbidden
    message: {en: "Never ask for a passcode.", vi: "Không bao giờ hỏi mật mã của khách."}
    patterns: ['\b(passcode|mat ma)\b']
    unless: ['\b(never|khong bao gio)\b']
""",
    "rules/mini-marketplace.yaml": r"""description: The mini marketplace rules.
rules:
  - id: push_to_cancel
    type: forbidden
    scope: {platforms: marketplace}
    message: {en: "Do not push the buyer to cancel.", vi: "Đừng giục người mua hủy đơn."}
    patterns: ['\bgo ahead and cancel\b', '\b(huy|cancel)\b[^.!?]{0,20}\bho (shop|minh)\b']
    unless: ['\bif you (like|wish)\b', '\bneu (ban|chi|anh) (thich|muon)\b']
    always: ['\bcancel\b[^.!?]{0,20}\bfor the shop\b', '\bhuy\b[^.!?]{0,20}\bho shop ngay\b']
  - id: outside_payment
    type: forbidden
    scope: {platforms: marketplace}
    message: {en: "Keep the payment on the marketplace.", vi: "Giữ việc thanh toán trên sàn."}
    patterns: ['\b(viber|chuyen khoan thang)\b', '\bpay (us|me) by bank\b']
""",
}
