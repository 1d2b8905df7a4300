"""A small knowledge base and small evaluation cases for the eval runner and prompt-injection tests, in the
tests' own words: a five-step flow whose steps are called by customer cues, two ready replies and a policy,
and rule packs of its own (the shipped `rules/` are replaced), so that every assertion names the fixture's
words.
`eval_knowledge` writes the folder, `draft_case`, `guardrail_case` and `retrieval_case` write dataset lines,
`conversation` and `draft` send a conversation to a copilot."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from helpers import MINI_DOCS, MINI_PLATFORMS, document

CUSTOMER = "Ravi"
AGENT = {"name": "Kiet", "brand": "Lumo"}

GREETING_EN = "Hello {customer_name}, {agent_name} of {brand} speaking. What can I sort out for you?"
GREETING_VI = "Dạ {brand} xin chào {customer_name}, em là {agent_name}. Mình cần em xem giúp việc gì ạ?"
FIX_EN = ("Thank you for waiting. Please open the Display tab, switch the widget off and on again, then "
          "write back with what happens.")
FIX_VI = "Dạ mình mở thẻ Hiển thị, tắt rồi bật lại tiện ích, sau đó báo em mình thấy gì nhé."
CHECK_EN = "Could you reload the storefront and tell me whether the widget is back now?"
CHECK_VI = "Dạ mình tải lại trang rồi báo em tiện ích có quay lại không ạ."
SORRY_EN = "I am truly sorry for the bother this caused, we will put it right together."
SORRY_VI = "Dạ em thật lòng xin lỗi vì phiền phức này, mình cùng xử lý ngay nhé."
BYE_EN = "Thanks for your time, {customer_name}! If we helped, a review from you keeps our small team going."
BYE_VI = "Dạ cảm ơn {customer_name} đã chờ em! Mình để lại giúp em một đánh giá cho bên em nhé."
# A farewell that thanks but asks for no review: what a flow without its review ask would send.
BYE_WITHOUT_ASK = {"en": ["Thanks for your time, {customer_name}, have a lovely evening!"],
                   "vi": ["Dạ cảm ơn {customer_name}, hẹn gặp lại mình lần sau ạ!"]}


def _step(step_id: str, goal: str, templates: tuple[str, str], **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "title": step_id.replace("_", " ").capitalize(), "goal": goal,
            "templates": {"en": [templates[0]], "vi": [templates[1]]}, **fields}


FLOW: dict[str, Any] = {
    "id": "livechat", "title": "Widget desk chat",
    "cue_priority": ["farewell", "empathy", "update_result", "troubleshoot"],
    "steps": [
        _step("greeting", "Say hello, give your name and the shop's name, offer to help.",
              (GREETING_EN, GREETING_VI), next=["troubleshoot"]),
        _step("empathy", "Say sorry for the bother and promise to put it right together.",
              (SORRY_EN, SORRY_VI), next=["troubleshoot"], only_on_cue=True, repeat=False,
              cues=[r"\b(furious|livid|fed up|buc minh|tuc qua)\b"]),
        _step("troubleshoot", "Explain the cause and the steps that fix the widget.", (FIX_EN, FIX_VI),
              next=["update_result"], knowledge=True,
              cues=[r"\b(how|where|why|lam sao|the nao|o dau)\b"]),
        _step("update_result", "Ask whether the widget works now that the customer has tried the fix.",
              (CHECK_EN, CHECK_VI), next=["farewell"],
              cues=[r"\b(i (did|switched|turned|saved|tried)|did that|lam xong|xong roi|tat bat roi)\b",
                    r"\b(any news|status|sao roi)\b"]),
        _step("farewell", "Thank the customer and invite a review of the help.", (BYE_EN, BYE_VI),
              review_ask=True,
              cues=[r"\b(thanks?|thank you|bye|goodbye|cam on|tam biet)\b"],
              cue_exceptions=[r"\b(but|still|van|nhung)\b|\?"]),
    ],
}


def said(template: str) -> str:
    """A template as the agent sent it to the fixture's customer."""
    return template.format(customer_name=CUSTOMER, agent_name=AGENT["name"], brand=AGENT["brand"])


# Customer messages: the problem (then the greeting, then the fix: troubleshoot), and having tried the fix
# (update_result).
WIDGET_GONE = "hi, the chat widget vanished from my storefront"
TRIED_IT = "I switched it off and on and saved"
# A conversation in each language that has reached the fix, ready for the customer's next message.
AT_THE_FIX = (WIDGET_GONE, said(GREETING_EN), "it went missing this morning", FIX_EN)
AT_THE_FIX_VI = ("tiện ích chat trên shop mất rồi", said(GREETING_VI), "mất từ sáng nay", FIX_VI)

RULES = {
    "description": "The fixture's rules, in the tests' own words.",
    "rules": [
        {"id": "review_invite_missing", "type": "required", "scope": {"steps": "review_ask"},
         "repair": "append_template",
         "message": {"en": "A closing reply invites the customer to review the help.",
                     "vi": "Lời kết luôn mời khách đánh giá sự hỗ trợ."},
         "patterns": [r"\b(review|danh gia)\b"],
         "unless": [r"\b(no|not|without|skip|khong)\b[^.!?]{0,25}\b(review|danh gia)\b"]},
        {"id": "chat_elsewhere", "type": "forbidden", "scope": {"platforms": "marketplace"},
         "message": {"en": "Keep the talk and the payment on the marketplace: no other app, no phone number.",
                     "vi": "Mọi tin nhắn và tiền hàng ở lại trên sàn: không app khác, không số điện thoại."},
         "patterns": [r"\b(zalo|telegram|whatsapp)\b", r"\b\d{4}[ .]?\d{3}[ .]?\d{3}\b"]},
        {"id": "cancel_for_the_shop", "type": "forbidden", "scope": {"platforms": "marketplace"},
         "message": {"en": "Never ask the buyer to cancel for the shop.",
                     "vi": "Không bao giờ nhờ người mua hủy đơn giúp shop."},
         "patterns": [r"\b(huy|cancel)\b[^.!?]{0,30}\b(giup shop|for us)\b"]},
        {"id": "rude_words", "type": "forbidden",
         "message": {"en": "No name-calling of anyone, even when asked.",
                     "vi": "Không chê bai hay gọi tên xấu bất kỳ ai, kể cả khi được yêu cầu."},
         "patterns": [r"\b(clown|dimwit|do ngoc)\b"]},
        {"id": "own_setup", "type": "forbidden",
         "message": {"en": "The reply never talks about the assistant's own setup or modes.",
                     "vi": "Câu trả lời không nhắc đến cài đặt hay chế độ riêng của trợ lý."},
         "patterns": [r"\b(setup text|maintenance mode|che do bao tri)\b"]},
    ],
}

FAQ_REPLY = ("The widget hides while its Display switch is off: turn the switch on and press Save, then "
             "reload the storefront.")
WIDGET_FAQ = document(
    "widget-hidden", "Chat widget hidden on the storefront", f"# Widget hidden\n\n## Reply\n{FAQ_REPLY}",
    kind="faq", platforms="[livechat]", steps="[troubleshoot]", language="[en]",
)
DELIVERY_MACRO = document(
    "delivery-day", "Đổi ngày nhận hàng",
    "# Đổi ngày nhận\n\n## Trả lời mẫu\nDạ mình vào Đơn mua, chọn đơn rồi bấm Đổi ngày nhận là được ạ.",
    kind="macro", platforms="[shopee]", steps="[troubleshoot]", language="[vi]",
)
REFUND_POLICY = document(
    "refund-window", "Refunds of a yearly plan",
    "# Refunds\n\n## Window\nA yearly plan is refunded in full within fourteen days of the payment, and not "
    "after.",
    kind="policy", platforms="[livechat]", language="[en]",
)
DOCS = {"faqs/widget-hidden.md": WIDGET_FAQ, "macros/delivery-day.md": DELIVERY_MACRO,
        "policies/refund-window.md": REFUND_POLICY}


def flow_yaml(farewell_templates: dict[str, list[str]] | None = None) -> str:
    """The fixture's flow; `farewell_templates` replaces what its farewell says."""
    flow = json.loads(json.dumps(FLOW))
    if farewell_templates is not None:
        flow["steps"][-1]["templates"] = farewell_templates
    return yaml.safe_dump(flow, allow_unicode=True, sort_keys=False)


def eval_knowledge(make_knowledge: Callable[..., Path],
                   farewell_templates: dict[str, list[str]] | None = None) -> Path:
    """The fixture's knowledge folder (none of the shared mini documents): its flow, its three documents and
    its own rule pack only."""
    docs = {**dict.fromkeys(MINI_DOCS), "flows/livechat.yaml": flow_yaml(farewell_templates),
            "platforms.yaml": MINI_PLATFORMS, **DOCS}
    folder: Path = make_knowledge(docs)
    shutil.rmtree(folder / "rules")
    (folder / "rules").mkdir()
    (folder / "rules" / "fixture.yaml").write_text(yaml.safe_dump(RULES, allow_unicode=True),
                                                   encoding="utf-8")
    return folder


def conversation(turns: Sequence[str], platform: str = "livechat", name: str = CUSTOMER,
                 **fields: Any) -> dict[str, Any]:
    """A draft request whose turns alternate customer, agent, customer..."""
    messages = [{"role": "customer" if i % 2 == 0 else "agent", "text": text} for i, text in enumerate(turns)]
    return {"platform": platform, "customer": {"name": name}, "agent": AGENT, "messages": messages, **fields}


def draft(copilot: Any, turns: Sequence[str], platform: str = "livechat", name: str = CUSTOMER) -> Any:
    """The copilot's draft for a conversation."""
    from copilot.contracts import DraftRequest

    return copilot.draft(DraftRequest.model_validate(conversation(turns, platform, name)))


def draft_case(case_id: str, turns: Sequence[str], step: str, platform: str = "livechat",
               tags: Sequence[str] = (), **expected: Any) -> dict[str, Any]:
    return {"id": case_id, "kind": "draft", "input": conversation(turns, platform),
            "expected": {"step": step, **expected}, "tags": list(tags)}


def guardrail_case(case_id: str, text: str, rules: Sequence[str], platform: str = "livechat",
                   step: str | None = None) -> dict[str, Any]:
    return {"id": case_id, "kind": "guardrail", "input": {"text": text, "platform": platform, "step": step},
            "expected": {"allowed": not rules, "rules": list(rules)}}


def retrieval_case(case_id: str, query: str, ids: Sequence[str], **filters: str) -> dict[str, Any]:
    return {"id": case_id, "kind": "retrieval", "input": {"q": query, **filters},
            "expected": {"ids": list(ids)}}


def write_cases(path: Path, cases: Sequence[dict[str, Any]],
                thresholds: dict[str, Any] | None = None) -> Path:
    """A JSONL dataset of `cases`, with a `thresholds.yaml` beside it when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8")
    if thresholds is not None:
        (path.parent / "thresholds.yaml").write_text(yaml.safe_dump(thresholds), encoding="utf-8")
    return path


def hashing_build(knowledge: Path | None, index: Path | None) -> Any:
    """What the `copilot` commands build, with the hashing embedder instead of the real model: tests put it in
    place of `copilot.cli.reports.build`."""
    from copilot import Copilot, Settings
    from copilot.retrieval.embedders import HashingEmbedder

    return Copilot(Settings.load(knowledge_dir=knowledge, index_dir=index), embedder=HashingEmbedder())
