"""A small knowledge base for QA and the weekly review, in the tests' own words: a four-step live-chat flow, a
rule pack of its own (a rating ask, two marketplace slips), a triage table of a small shop's needs, and a
`review.yaml` with its own hours, targets, reasons, promises and weights; `qa_knowledge` writes it (its rule
pack replaces the shipped ones), `qa_copilot` serves it with the hashing embedder.

`TRANSCRIPTS` are three finished chats for `copilot qa`. `WEEK` is a week computed by hand, Monday 2 to
Sunday 8 March 2026 (Asia/Bangkok; Shopee is staffed 08:00-20:00 Monday to Saturday, Tiki 09:00-18:00 on
weekdays, live chat 07:00-22:00 every day; 15 minutes for a medium question, 10 for a high one): w1 answered
in 3 min; w2, a cracked vase (high), answered the next morning (210 business minutes); w3 in 2 min, promised 5
minutes and updated after 18; w4 never answered; w5 in 4 min, with both marketplace rules broken by Lan; w6 in
1 min, promised 3 minutes and never updated; w7 in 20 min after an automatic reply, a question the table has
no need for; w8 on Sunday (the clock is paused). Response rate 5 of 8; days at the 70 % target: Tuesday,
Thursday, Friday and Sunday."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from copilot import Copilot, Settings
from copilot.retrieval.embedders import HashingEmbedder

QA_FLOW = """\
id: livechat
title: Live chat
steps:
  - id: greeting
    title: Greeting
    goal: Say hello and give your name.
    next: [probing]
    templates:
      en: ["Hello {customer_name}, {agent_name} from {brand} here, glad to help."]
      vi: ["Dạ chào {customer_name}, {agent_name} của {brand} xin nghe ạ."]
  - id: probing
    title: Probing
    goal: Ask for the order number.
    next: [troubleshoot]
    templates:
      en: ["What is the order number, so I can pull it up?"]
      vi: ["Mã đơn của chị là số mấy, để em tra liền ạ?"]
  - id: troubleshoot
    title: Troubleshoot
    goal: Say what will be done about it.
    next: [farewell]
    knowledge: true
    templates:
      en: ["Here is what we will do: a new one goes out today."]
      vi: ["Dạ shop xử lý thế này: shop gửi cái mới ngay hôm nay ạ."]
  - id: farewell
    title: Farewell
    goal: Thank the customer and ask for a star rating.
    review_ask: true
    templates:
      en: ["Lovely talking to you, would you rate our chat five stars?"]
      vi: ["Nhà Mây cảm ơn chị nhiều, chị chấm giúp shop năm sao nhé."]
"""

QA_RULES = r"""
description: The test shop's own rules.
rules:
  - id: rating_ask
    type: required
    scope: {steps: review_ask}
    repair: append_template
    message: {en: "End by asking for a star rating."}
    patterns: ['\b(cham|rate)\b[^.!?]{0,30}\b(sao|stars?)\b']
  - id: cancel_for_us
    type: forbidden
    scope: {platforms: marketplace}
    message: {en: "Never ask the buyer to cancel for the shop."}
    patterns: ['\b(huy|cancel)\b[^.!?]{0,30}\b(giup|gium|for) (shop|us)\b']
  - id: outside_contact
    type: forbidden
    scope: {platforms: marketplace}
    message: {en: "Keep the chat on the marketplace."}
    patterns: ['\b(zalo|whatsapp)\b']
"""

QA_PLATFORMS = """\
platforms:
  livechat: {title: Live chat, chatwoot: ["Channel::WebWidget"]}
  shopee: {title: Shopee, marketplace: true}
  tiki: {title: Tiki, marketplace: true}
"""

REVIEW_TRIAGE = r"""
answer_step: troubleshoot
auto_reply_threshold: 0.3
intents:
  cancel_order: {issue_type: order_request, answerable: true}
  return_item: {issue_type: complaint, answerable: true}
  swap_size: {issue_type: order_request, answerable: true}
  order_status: {issue_type: order_request, answerable: true}
  voucher: {issue_type: product_question, answerable: true}
  other: {issue_type: product_question}
out_of_scope: {rejects: 0.05, intent: other}
urgency_rules:
  - {level: high, reason: "arrived cracked", handoff: true, patterns: ['\b(bi nut|arrived cracked)\b']}
sentiment:
  negative: ['!{2,}', '\b(that vong|chan qua)\b']
  positive: ['\b(cam on|thanks?)\b']
routing: {default: the-desk}
sla_minutes:
  chat: {urgent: 5, high: 10, medium: 15, low: 120}
holding_message: {en: "Someone from the desk writes within {wait}.", vi: "Quầy trả lời trong {wait}."}
wait_words: {en: {minutes: "{n} min", hours: "{n} h"}}
"""

TRIAGE_ROWS = {
    "cancel_order": ["mình muốn hủy đơn vừa đặt", "đặt nhầm rồi, hủy giúp mình đơn này",
                     "how can an order of mine be cancelled", "hủy bớt một đơn được không shop"],
    "return_item": ["hàng tới bị vỡ, mình muốn trả hàng", "nhận được sai màu, cho mình trả lại",
                    "the vase arrived cracked, I want to send it back", "sản phẩm lỗi, trả hàng thế nào"],
    "swap_size": ["áo hơi chật, đổi size được không", "cho mình đổi sang size lớn hơn",
                  "can I swap it for a bigger size"],
    "order_status": ["đơn của mình đang ở đâu rồi", "bao giờ đơn giao tới vậy shop",
                     "where is my order, the tracking has not moved"],
    "voucher": ["mã giảm giá không dùng được", "voucher báo hết hạn dù mới nhận", "my discount code fails"],
    "other": ["xin chào", "hello there", "shop có tuyển cộng tác viên không",
              "shop có nhận làm quà cho công ty không"],
}
ISSUES = {"return_item": "complaint", "voucher": "product_question", "other": "product_question"}
TRIAGE_EXAMPLES = "examples:\n" + "".join(
    f'  - {{text: "{text}", intent: {intent}, issue_type: {ISSUES.get(intent, "order_request")}, '
    "urgency: medium, sentiment: neutral}\n"
    for intent, texts in TRIAGE_ROWS.items() for text in texts)

REVIEW_YAML = r"""
timezone: Asia/Bangkok
target: 0.7
targets: {tiki: 0.9}
business_hours:
  default: {days: [mon, tue, wed, thu, fri], open: "09:00", close: "18:00"}
  shopee: {days: [mon, tue, wed, thu, fri, sat], open: "08:00", close: "20:00"}
  livechat: {days: [mon, tue, wed, thu, fri, sat, sun], open: "07:00", close: "22:00"}
automatic_authors: [bot, robot]
order_intents: [return_item, cancel_order, swap_size]
complaint_issue_types: [complaint]
reasons:
  too_small: ['\b(chat qua|too tight)\b']
  arrived_broken: ['\b(nut|vo|cracked)\b']
  wrong_colour: ['\b(sai mau|wrong colou?r)\b']
  by_mistake: ['\b(lo dat|dat nham)\b']
promises:
  patterns: ['\b(trong|within) (?P<n>\d+) (?P<unit>phut|minutes?)\b']
  seconds: {phut: 60, minute: 60}
ratings: {positive: 5, negative: 2}
knowledge_gaps: {heavy_edit: 0.5, similar: 0.8, limit: 100}
page_size: 5
titles:
  return_item: {en: Send back, vi: Gửi trả}
qa: {steps: 40, order: 10, review_ask: 30, clean: 20, per_blocking: 10}
"""

QA_DOCS: dict[str, str | None] = {
    "flows/livechat.yaml": QA_FLOW,
    "platforms.yaml": QA_PLATFORMS,
    "triage.yaml": REVIEW_TRIAGE,
    "triage-examples/shop.yaml": TRIAGE_EXAMPLES,
    "review.yaml": REVIEW_YAML,
}


def qa_knowledge(make_knowledge: Callable[..., Path], docs: dict[str, str | None] | None = None,
                 root: Path | None = None) -> Path:
    """The small knowledge folder (with `docs` added, replaced or dropped), whose only rule pack is
    `QA_RULES`."""
    folder: Path = make_knowledge({**QA_DOCS, **(docs or {})}, root)
    shutil.rmtree(folder / "rules")
    (folder / "rules").mkdir()
    (folder / "rules" / "shop.yaml").write_text(QA_RULES, encoding="utf-8")
    return folder


def qa_copilot(knowledge: Path, folder: Path, database_url: str = "", **settings: Any) -> Copilot:
    """A copilot over `knowledge` with the hashing embedder, indexed, keeping its index and data in
    `folder`."""
    config = Settings(knowledge_dir=knowledge, index_dir=folder / "index", data_dir=folder / "data",
                      database_url=database_url, **settings)
    copilot = Copilot(config, embedder=HashingEmbedder())
    copilot.ingest()
    return copilot


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def chat(cid: str, platform: str, people: tuple[str, str], turns: list[tuple[str, str, str]],
         **extra: Any) -> dict[str, Any]:
    """One conversation of the week: `people` are the customer's name and the agent's id; each turn is (when,
    who, text), `when` as "MM-DD HH:MM" in March 2026, `who` "c" for the customer or an author's id."""
    customer, agent = people
    messages = []
    for when, who, text in turns:
        message = {"role": "customer" if who == "c" else "agent", "text": text,
                   "at": f"2026-{when[:5]}T{when[6:]}:00+07:00"}
        if who != "c":
            message["author"] = who
        messages.append(message)
    return {"id": cid, "platform": platform, "customer": {"name": customer}, "agent": {"name": agent.title()},
            "messages": messages, "url": f"https://desk.example.org/t/{cid}", **extra}


ASK_VI = "Nhà Mây cảm ơn chị nhiều, chị chấm giúp shop năm sao nhé."
HELLO_VI = "Dạ chào chị {}, {} của Nhà Mây xin nghe ạ."
SEND_BACK = "Dạ {} chọn nút Trả hàng ở đơn, shop duyệt ngay trong hôm nay ạ."
UNTIL = "2026-03-08"
WEEK = [
    chat("w1", "shopee", ("Bình", "ngoc"), [
        ("03-02 09:00", "c", "Shop ơi mình lỡ đặt hai lần đơn 1203, muốn hủy bớt một đơn"),
        ("03-02 09:03", "ngoc", HELLO_VI.format("Bình", "Ngọc")),
        ("03-02 09:04", "ngoc", "Dạ đơn chưa đóng gói thì chị tự vào Đơn mua và chọn Hủy đơn là xong ạ."),
        ("03-02 09:06", "c", "ok cảm ơn shop"), ("03-02 09:07", "ngoc", ASK_VI)], rating=5),
    chat("w2", "shopee", ("Quân", "khoa"), [
        ("03-02 17:00", "c", "Bình hoa đơn 4410 tới nơi bị nứt, thất vọng quá, mình muốn trả hàng"),
        ("03-03 08:30", "khoa", "Dạ chào anh Quân, Khoa của Nhà Mây đây ạ. Lỗi này của shop, em rất tiếc."),
        ("03-03 08:32", "khoa", SEND_BACK.format("anh")), ("03-03 08:35", "c", "ừ"),
        ("03-03 08:36", "khoa", "Dạ vậy nhé anh, chúc anh buổi sáng vui ạ.")], rating=1),
    chat("w3", "shopee", ("Chi", "ngoc"), [
        ("03-03 10:00", "c", "Đơn 5530 của mình giao tới đâu rồi shop?"),
        ("03-03 10:02", "ngoc", "Dạ chào chị Chi, em tra đơn ngay, trong 5 phút nữa em nhắn chị ạ."),
        ("03-03 10:20", "ngoc", "Dạ đơn đã rời kho hôm qua, khoảng hai ngày nữa tới chị ạ."),
        ("03-03 10:21", "c", "dạ cảm ơn"), ("03-03 10:22", "ngoc", ASK_VI)]),
    chat("w4", "shopee", ("Nam", "khoa"), [
        ("03-04 11:00", "c", "Mã giảm giá không dùng được cho đơn 7781 shop ơi"),
        ("03-04 11:30", "c", "shop ơi còn đó không")]),
    chat("w5", "tiki", ("Mỹ", "lan"), [
        ("03-05 14:00", "c", "Áo đơn 3390 mặc chật quá, đổi sang size lớn hơn được không shop"),
        ("03-05 14:04", "lan", HELLO_VI.format("Mỹ", "Lan")),
        ("03-05 14:05", "lan", "Phiền chị bấm hủy giùm shop, xong mua lại size L, hoặc qua Zalo 0912345678."),
        ("03-05 14:07", "c", "ok"), ("03-05 14:08", "lan", ASK_VI)]),
    {**chat("w6", "livechat", ("Sam", "minh"), [
        ("03-06 10:00", "c", "Hi, the tracking for my order 2231 has not moved in days"),
        ("03-06 10:01", "minh", "Hello Sam, Minh from Nha May here, glad to help."),
        ("03-06 10:02", "minh", "Checking on that now; expect word from me within 3 minutes."),
        ("03-06 10:03", "c", "ok, thanks")]), "url": None},
    chat("w7", "shopee", ("Tùng", "ngoc"), [
        ("03-07 11:00", "c", "Shop có nhận khắc tên công ty lên ly không ạ?"),
        ("03-07 11:01", "robot", "Nhà Mây đã nhận tin nhắn, nhân viên sẽ trả lời bạn sớm."),
        ("03-07 11:20", "ngoc", "Dạ việc này em xin hỏi lại quản lý rồi báo anh sau ạ."),
        ("03-07 11:21", "c", "ok"), ("03-07 11:22", "ngoc", ASK_VI)]),
    chat("w8", "shopee", ("Hà", "khoa"), [
        ("03-08 12:00", "c", "Shop giao sai màu đơn 6650 rồi, mình muốn trả lại"),
        ("03-08 12:40", "khoa", HELLO_VI.format("Hà", "Khoa")),
        ("03-08 12:41", "khoa", SEND_BACK.format("chị")), ("03-08 12:43", "c", "dạ"),
        ("03-08 12:44", "khoa", ASK_VI)], rating=4),
]

def finished(tid: str, people: tuple[str, str], turns: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """A finished chat for `copilot qa`: each turn is (who, text), `who` "c" (the customer) or "a" (the
    agent)."""
    messages = [{"role": "customer" if who == "c" else "agent", "text": text} for who, text in turns]
    return {"id": tid, "customer": {"name": people[0]}, "agent": {"name": people[1]}, "messages": messages,
            **extra}


BRAND = {"name": "Minh", "brand": "Nha May"}
TRANSCRIPTS = [
    finished("qa-full", ("Ella", "Minh"), [
        ("c", "Hi there, I have a question about my order"),
        ("a", "Hello Ella, Minh from Nha May here, glad to help."),
        ("c", "The mug I got has a chip on the rim"),
        ("a", "What is the order number, so I can pull it up?"),
        ("c", "It is 8812"),
        ("a", "Here is what we will do: a new mug goes out today at no cost."),
        ("c", "Great, thanks"),
        ("a", "Lovely talking to you, would you rate our chat five stars?")], agent=BRAND),
    finished("qa-no-rating", ("Tom", "Minh"), [
        ("c", "hello, my discount code fails at checkout"),
        ("a", "Hello Tom, Minh from Nha May here, glad to help."),
        ("a", "Here is what we will do: the discount goes on your cart by hand today."),
        ("c", "thanks"),
        ("a", "Lovely talking to you, enjoy the evening.")], agent=BRAND),
    finished("qa-slip", ("Hoa", "Lan"), [
        ("c", "Mình muốn đổi cái ly sang màu xanh"),
        ("a", HELLO_VI.format("Hoa", "Lan")),
        ("a", "Phiền chị bấm hủy giùm shop rồi mua lại, hoặc qua Zalo với shop ạ."),
        ("c", "ok"),
        ("a", ASK_VI)], platform="shopee"),
]


def cli_with_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The team lead's commands (`copilot qa`, `import`, `review`) build their copilot with the packaged
    model; this gives them the hashing embedder instead, with the knowledge and index folders given."""
    from copilot.cli import team

    def build(knowledge: Path | None, index: Path | None) -> Copilot:
        return Copilot(Settings.load(knowledge_dir=knowledge, index_dir=index), embedder=HashingEmbedder())

    monkeypatch.setattr(team, "build", build)
