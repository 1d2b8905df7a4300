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
