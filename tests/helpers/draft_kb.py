"""A small knowledge base for drafting, in the tests' own words: a plant shop on Shopee and a loyalty-points
app on live chat. Its flow has step ids of its own (hello ... goodbye) that `answers.yaml` maps to the acts;
two Shopee cancel units differ in a condition (`parcel_state`) beside a plant-care one, two live-chat units
answer app questions, and its rule packs, slot words and triage table are written here too, so that no code
test reads a shipped word. `draft_knowledge` writes the folder, `indexed_copilot` serves it with the hashing
embedder, `draft` sends it one request; the constants are what the tests expect drafts to say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from helpers import MINI_DOCS, document

PLATFORMS = """\
platforms:
  livechat: {title: Live chat, language: en}
  shopee: {title: Shopee, marketplace: true, language: vi}
"""

SECTIONS = """\
reply: [reply, trả lời mẫu]
forbidden: [never send, không gửi]
"""

HELLO = {"en": "Good day {customer_name}, you are chatting with {agent_name} from {brand}. "
               "Thanks for writing in.",
         "vi": "Chào {customer_name} nha, mình là {agent_name} bên {brand}. Shop vui vì anh/chị ghé hỏi ạ."}
EXTRA = {"en": "Is there one more thing the shop could sort out?",
         "vi": "Dạ anh/chị có cần shop giúp thêm việc gì nữa không ạ?"}
REVIEW_ASK = {"en": "If the shop helped, a short review of {brand} would cheer us up.",
              "vi": "Nếu shop giúp được anh/chị, anh/chị để lại một đánh giá cho {brand} nhé."}
GOODBYE = {"en": f"Many thanks for the chat, {{customer_name}}. {REVIEW_ASK['en']}",
           "vi": f"Shop cảm ơn {{customer_name}} nhiều nha. {REVIEW_ASK['vi']}"}


def _step(step_id: str, goal: str, en: str, vi: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "title": step_id.title(), "goal": goal, "templates": {"en": [en], "vi": [vi]},
            **fields}


# Step ids of its own: the acts of answers.yaml, not the names, tell the code which step answers.
STEPS = [
    _step("hello", "Welcome the customer and say who is writing for which shop.", HELLO["en"], HELLO["vi"],
          next=["questions", "solution"]),
    _step("sympathy", "Say that the trouble is understood and regretted.",
          "That sounds tiring, and I am sorry it happened.",
          "Ôi, việc này làm anh/chị mệt quá, shop xin lỗi ạ.",
          next=["questions", "solution"], only_on_cue=True, cues=[r"\b(fed up|buc qua)\b"]),
    _step("questions", "Ask for the details needed to look into it.",
          "A few more details would help me look at the right thing: what do you see?",
          "Anh/chị kể rõ hơn giúp shop, để shop xem đúng chỗ nhé?", next=["checking", "solution"]),
    _step("checking", "Say what will be looked into and when the customer hears back.",
          "Give me ten minutes to look into it, then I will write back.",
          "Dạ em đang xem ngay, trong mười phút em nhắn lại anh/chị ạ.", next=["solution"], knowledge=True),
    _step("solution", "Give the answer or the steps that solve it.", "Here is what solves it, step by step.",
          "Dạ anh/chị làm theo các bước sau giúp em ạ.", next=["extra", "goodbye"], knowledge=True,
          cues=[r"\b(duoc khong|can i|how do i)\b"]),
    _step("extra", "Offer help with anything else.", EXTRA["en"], EXTRA["vi"], next=["goodbye"],
          only_on_cue=True, cues=[r"\bworks now\b"]),
    _step("goodbye", "Thank the customer and invite a review.", GOODBYE["en"], GOODBYE["vi"], review_ask=True,
          cues=[r"\b(thanks|thank you|cam on|all good)\b"], cue_exceptions=[r"\?"]),
]
FLOW = yaml.safe_dump({"id": "livechat", "title": "Plant shop chat", "cue_priority": ["goodbye", "solution"],
                       "steps": STEPS}, allow_unicode=True, sort_keys=False)

ANSWERS = """\
threshold: 0.8
told_threshold: 0.6
flows:
  livechat: {open: hello, empathy: sympathy, ask: questions, answer: solution, hold: checking}
conditions:
  parcel_state:
    values: [still_packing, with_courier]
    ask:
      vi: "Dạ cho em hỏi chậu cây của anh/chị đã rời kho theo bên vận chuyển chưa ạ?"
      en: "May I ask whether your plant has already left with the courier?"
questions:
  cancel_order: {vi: "Dạ anh/chị muốn dừng đơn cây nào ạ?", en: "Which plant order would you like to stop?"}
  _unknown: {vi: "Dạ anh/chị cần shop giúp việc gì ạ?", en: "What can the shop help you with?"}
address: {generic: "anh/chị", forms: [anh, chị]}
voice: {vi: "gentle, with full diacritics"}
"""
PARCEL_QUESTION_VI: str = yaml.safe_load(ANSWERS)["conditions"]["parcel_state"]["ask"]["vi"]


def _unit(doc_id: str, title: str, when_to_use: str, reply_heading: str, reply: str, **meta: str) -> str:
    body = f"# {title}\n\n## When to use\n{when_to_use}\n\n## {reply_heading}\n{reply}"
    return document(doc_id, title, body, steps="[solution]", **meta)


WHILE_PACKING_REPLY = ("Dạ khi đơn còn đang đóng gói, anh/chị {customer_name} có thể tự bấm nút Hủy ở trang "
                       "chi tiết đơn ạ.")
WITH_COURIER_REPLY = ("Dạ tiếc quá, chậu cây của anh/chị {customer_name} đã rời kho theo bên vận chuyển nên "
                      "đơn không dừng được nữa ạ. Khi cây tới, nếu lá héo hay chậu nứt, anh/chị mở yêu cầu "
                      "Trả hàng ngay trong đơn nhé.")
POINTS_REPLY = ("Points stay valid for twelve months after the purchase that earned them, {customer_name}; "
                "the widget shows each shopper their own expiry date.")
WATERING_REPLY = "Dạ anh/chị tưới khi đất khô mặt trên, khoảng một cốc nước mỗi tuần là vừa ạ."
COLOURS_REPLY = "The widget takes your theme colours by default; pick others under Widget > Look."

UNITS = {
    "macros/while-packing.md": _unit(
        "while-packing", "Dừng đơn cây khi còn đóng gói",
        "Người mua muốn dừng đơn cây khi shop chưa giao chậu cho vận chuyển.", "Trả lời mẫu",
        WHILE_PACKING_REPLY,
        kind="macro", platforms="[shopee]", language="[vi]", answers="[cancel_order]",
        when="{parcel_state: still_packing}"),
    "macros/with-courier.md": _unit(
        "with-courier", "Dừng đơn cây khi chậu đã đi",
        "Người mua muốn dừng đơn nhưng chậu cây đã rời kho theo bên vận chuyển.", "Trả lời mẫu",
        WITH_COURIER_REPLY, kind="macro", platforms="[shopee]", language="[vi]", answers="[cancel_order]",
        when="{parcel_state: with_courier}"),
    "macros/watering.md": _unit(
        "watering", "Tưới cây thế nào", "Người mua hỏi cách tưới và chăm cây.", "Trả lời mẫu", WATERING_REPLY,
        kind="macro", platforms="[shopee]", language="[vi]", answers="[plant_care]"),
    "faqs/points-expiry.md": _unit(
        "points-expiry", "When loyalty points run out",
        "A merchant asks how long points last and where shoppers see it.", "Reply (English)", POINTS_REPLY,
        kind="faq", platforms="[livechat]", language="[en]", answers="[points_question]"),
    "faqs/widget-colours.md": _unit(
        "widget-colours", "Widget colours",
        "A merchant wants the points widget in other colours.", "Reply (English)", COLOURS_REPLY,
        kind="faq", platforms="[livechat]", language="[en]", answers="[widget_look]"),
}

ANSWER_EXAMPLES = """\
examples:
  - {text: "cây mình đặt chưa gói xong mà, cho mình hủy đơn nha", answer: while-packing}
  - {text: "chậu còn nằm trong kho, mình không lấy nữa", answer: while-packing}
  - {text: "dat nham cay roi, con dang dong goi thi huy don sao", answer: while-packing}
  - {text: "đơn chưa đóng gói, em muốn bỏ đơn này", answer: while-packing}
  - {text: "chậu cây đi với shipper rồi mà mình hủy đơn được nữa không", answer: with-courier}
  - {text: "bên vận chuyển lấy cây hôm qua rồi, giờ mình thôi không lấy", answer: with-courier}
  - {text: "cay dang tren duong giao, minh muon huy don", answer: with-courier}
  - {text: "kiện đã rời kho rồi, em muốn bỏ đơn này", answer: with-courier}
  - {text: "cây này mấy ngày tưới một lần vậy shop", answer: watering}
  - {text: "lá cây bị vàng thì chăm sao ạ", answer: watering}
  - {text: "tuoi cay bao nhieu nuoc la du", answer: watering}
  - {text: "how long do my shoppers keep their points", answer: points-expiry}
  - {text: "do reward points ever expire", answer: points-expiry}
  - {text: "where does a shopper see when their points end", answer: points-expiry}
  - {text: "can the points widget use our brand green", answer: widget-colours}
  - {text: "the widget colour clashes with my theme, can I change it", answer: widget-colours}
  - {text: "could the widget be darker", answer: widget-colours}
"""

CONDITION_EXAMPLES = """\
condition: parcel_state
examples:
  - {text: "shop còn đang đóng gói cây cho em", value: still_packing}
  - {text: "đơn vẫn chờ lấy hàng trong kho", value: still_packing}
  - {text: "don con dang dong goi", value: still_packing}
  - {text: "the plant is still being packed", value: still_packing}
  - {text: "Dạ shop chưa giao chậu cho bên vận chuyển ạ", value: still_packing}
  - {text: "shipper đã lấy chậu cây từ sáng", value: with_courier}
  - {text: "chậu đang trên đường tới nhà mình", value: with_courier}
  - {text: "shipper da lay cay roi", value: with_courier}
  - {text: "the courier picked the plant up yesterday", value: with_courier}
  - {text: "Dạ chậu cây đã rời kho theo bên vận chuyển ạ", value: with_courier}
  - {text: "cây đã đi chưa shop?", value: none}
  - {text: "shop ơi", value: none}
  - {text: "mình muốn hủy đơn", value: none}
  - {text: "has my plant left yet?", value: none}
  - {text: "cảm ơn shop nhiều", value: none}
  - {text: "cây này tưới mấy lần một tuần", value: none}
"""

TRIAGE = """\
answer_step: solution
auto_reply_threshold: 0.5
intents:
  cancel_order:
    issue_type: order_request
    answerable: true
    exemplars: ["cho mình hủy đơn cây", "mình không lấy chậu nữa", "please stop my plant order"]
  plant_care:
    issue_type: product_question
    answerable: true
    exemplars: ["tưới cây mấy lần một tuần", "lá bị vàng phải làm sao", "how often do I water it"]
  points_question:
    issue_type: product_question
    answerable: true
    exemplars: ["do loyalty points expire", "how long do points last", "where do shoppers see points"]
  widget_look:
    issue_type: product_question
    answerable: true
    exemplars: ["change the widget colour", "the widget looks too bright", "make the widget match my theme"]
  small_talk:
    issue_type: product_question
    exemplars: ["hello there", "xin chào shop", "good morning"]
routing: {default: plant-desk}
sla_minutes: {chat: {urgent: 5, high: 15, medium: 60, low: 240}}
holding_message: {en: "Someone from the plant desk writes within {wait}.", vi: "Shop trả lời trong {wait}."}
wait_words: {en: {minutes: "{n} min", hours: "{n} h"}, vi: {minutes: "{n} phút", hours: "{n} giờ"}}
"""

MARKET_RULES = r"""
description: The plant shop's marketplace rules.
rules:
  - id: nudge_to_cancel
    type: forbidden
    scope: {platforms: marketplace}
    message:
      en: "Never push the buyer to cancel: say they may press Cancel themselves if they wish."
      vi: "Không giục người mua hủy: nói rằng nếu muốn, họ có thể tự bấm Hủy."
    patterns: ['\b(huy|cancel)\b[^.!?]{0,30}\b(giup|cho) (shop|em)\b', '\bplease cancel\b']
    unless: ['\btu\b', '\byourself\b']
  - id: outside_chat_app
    type: forbidden
    scope: {platforms: marketplace}
    message:
      en: "Keep the conversation on the marketplace: no outside chat app."
      vi: "Giữ trao đổi trên sàn: không dùng ứng dụng nhắn tin bên ngoài."
    patterns: ['\b(zalo|telegram|whatsapp)\b']
"""
NUDGE_VI: str = yaml.safe_load(MARKET_RULES)["rules"][0]["message"]["vi"]  # what nudge_to_cancel tells
FLOW_RULES = r"""
description: The plant shop's flow rule.
rules:
  - id: goodbye_without_review
    type: required
    scope: {steps: review_ask}
    repair: append_template
    message: {en: "The goodbye must invite a review.", vi: "Lời chào cuối phải mời khách đánh giá."}
    patterns: ['\breview\b', '\bdanh gia\b']
"""
RULE_FILES = ("rules/market.yaml", "rules/flow-rules.yaml")

LANGUAGE = """\
slots:
  dangling_ends: {en: [from, to, the], vi: [là, bên, của]}
  dangling_pairs: {en: [chatting with]}
  prepositions: {en: [from], vi: [bên]}
addresses: {}
"""

DRAFT_DOCS: dict[str, str | None] = {
    **{path: None for path in MINI_DOCS},
    "platforms.yaml": PLATFORMS,
    "sections.yaml": SECTIONS,
    "flows/livechat.yaml": FLOW,
    "answers.yaml": ANSWERS,
    "answer-examples/fixture.yaml": ANSWER_EXAMPLES,
    "condition-examples/parcel_state.yaml": CONDITION_EXAMPLES,
    "triage.yaml": TRIAGE,
    "language.yaml": LANGUAGE,
    RULE_FILES[0]: MARKET_RULES,
    RULE_FILES[1]: FLOW_RULES,
    **UNITS,
}


def draft_knowledge(make_knowledge: Callable[..., Path]) -> Path:
    """The drafting knowledge folder, with only the fixture's own rule packs."""
    root = make_knowledge(DRAFT_DOCS)
    for path in (root / "rules").glob("*.y*ml"):
        if f"rules/{path.name}" not in RULE_FILES:
            path.unlink()
    return root


def _turns(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "text": text} for role, text in turns]


SHOPEE_AGENT = {"name": "Minh", "brand": "Vườn Nhỏ"}
# A buyer on Shopee whose order is still being packed; the agent has greeted her.
CANCEL_WHILE_PACKING = {
    "platform": "shopee", "customer": {"name": "Lan"}, "agent": SHOPEE_AGENT,
    "messages": _turns(
        ("customer", "Shop ơi"),
        ("agent", "Chào chị Lan nha, mình là Minh bên Vườn Nhỏ. Shop vui vì chị ghé hỏi ạ."),
        ("customer", "Cây em đặt hôm qua shop còn đang đóng gói, giờ em thôi không mua, hủy được không?"),
    ),
}
# The courier already has the plant; the agent called the buyer "chị".
CANCEL_WITH_COURIER = {
    "platform": "shopee", "customer": {"name": "Hoa"}, "agent": SHOPEE_AGENT,
    "messages": _turns(
        ("customer", "alo shop"),
        ("agent", "Dạ shop nghe đây chị ơi, chị cần gì ạ?"),
        ("customer", "Shipper lấy chậu cây đi từ sáng rồi, mình đổi ý, giờ hủy được không?"),
    ),
}
# A cancel that says nothing of where the parcel is.
CANCEL_UNCLEAR = {"platform": "shopee", "messages": _turns(
    ("customer", "shop oi"), ("agent", "Dạ shop đây ạ"), ("customer", "hủy đơn"))}
# A merchant on live chat who is thankful once the widget shows again.
THANKS = {
    "platform": "livechat", "customer": {"name": "Anna"}, "agent": {"name": "Minh", "brand": "Sprout"},
    "messages": _turns(
        ("customer", "Hello, the points widget vanished from my store"),
        ("agent", "Good day Anna, you are chatting with Minh from Sprout. Thanks for writing in."),
        ("customer", "it is sprout-demo.myshopify.com"),
        ("agent", "I switched the widget back on from our side. Is it visible again?"),
        ("customer", "yes, thanks, all good!"),
    ),
}
# A first message on live chat that already asks a question a unit answers.
FIRST_QUESTION = {
    "platform": "livechat", "customer": {"name": "Sam"}, "agent": {"name": "Ivy", "brand": "Sprout"},
    "messages": _turns(("customer", "hi! do shoppers' loyalty points ever expire, and where is that shown?")),
}


def indexed_copilot(knowledge: Path, index_dir: Path, model: Any = None, **settings: Any) -> Any:
    """A copilot over `knowledge` with the hashing embedder (no real model), indexed; `settings` go to its
    Settings (an LLM endpoint), `model` replaces its chat model."""
    from copilot import Copilot, Settings
    from copilot.retrieval.embedders import HashingEmbedder

    copilot = Copilot(Settings(knowledge_dir=knowledge, index_dir=index_dir, **settings),
                      embedder=HashingEmbedder(), model=model)
    copilot.ingest()
    return copilot


def draft(copilot: Any, body: dict[str, Any]) -> Any:
    """The copilot's draft for a request body (the API's JSON)."""
    from copilot.contracts import DraftRequest

    return copilot.draft(DraftRequest.model_validate(body))
