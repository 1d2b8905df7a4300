"""The review as HTML: a fragment the /review page shows, and one self-contained page (`copilot review --out`)
with both languages, its styles inline and its charts as SVG: nothing to load, nothing to run but a language
switch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from copilot.review import charts
from copilot.review.config import ReviewConfig
from copilot.review.labels import LABELS

Row = Sequence[object]


class Renderer:
    """Renders one review in one language."""

    def __init__(self, review: dict[str, Any], config: ReviewConfig, language: str,
                 channels: dict[str, str] | None = None, served: bool = False) -> None:
        """`served`: the page can open a stored conversation (the /review page, not a file)."""
        self.review, self.config, self.language = review, config, language if language in LABELS else "en"
        self.words = LABELS[self.language]
        self.channels = channels or {}
        self.served = served

    def t(self, key: str, **values: object) -> str:
        return escape(self.words.get(key, LABELS["en"].get(key, key)).format(**values))

    def fragment(self) -> str:
        review = self.review
        period = review["period"]
        head = (f'<div class="card review-head" data-testid="review-period"><h2>{self.t("title")}</h2>'
                f'<p class="muted">{self.t("period", since=period["since"], until=period["until"])} · '
                f'{self.t("as_of", as_of=period["as_of"].replace("T", " "))}</p></div>')
        if review["team"] is None:
            latest = self.t("latest", day=review["latest_day"]) if review.get("latest_day") else ""
            return head + (
                f'<div class="card" data-testid="review-empty"><p class="empty">{self.t("empty")} '
                f'<span data-latest="{escape(str(review.get("latest_day") or ""))}">{latest}</span></p>'
                "</div>"
            )
        sections = [self._team(), self._daily(), self._channels(), self._distribution(), self._unanswered(),
                    self._promises(), self._agents(), self._orders(), self._complaints(), self._gaps(),
                    self._drafts()]
        return head + "".join(sections)

    # --- pieces --------------------------------------------------------------------------------------------

    def _section(self, key: str, body: str, testid: str) -> str:
        return (f'<section class="card" data-testid="{testid}"><h3 class="section-title">{self.t(key)}</h3>'
                f"{body}</section>")

    def _table(self, headers: Sequence[str], rows: Sequence[Row], testid: str) -> str:
        if not rows:
            return f'<p class="empty">{self.t("none")}</p>'
        head = "".join(f"<th>{self.t(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
        return f'<div class="table-wrap"><table data-testid="{testid}"><thead><tr>{head}</tr></thead>' \
               f"<tbody>{body}</tbody></table></div>"

    def _rate(self, value: object) -> str:
        return f"{round(float(value) * 100)}%" if isinstance(value, int | float) else "—"

    def _minutes(self, values: dict[str, float]) -> str:
        if not values:
            return "—"
        return " / ".join(self.t("minutes", value=f"{values.get(p, 0):g}") for p in ("p50", "p90"))

    def _channel(self, key: object) -> str:
        return escape(self.channels.get(str(key), str(key)))

    def _metric(self, name: str, label: str, value: str, note: str = "") -> str:
        return (
            f'<div class="metric" data-testid="metric-{name}"><span class="metric-value">{value}</span>'
            f'<span class="metric-label">{label}</span>'
            f'{f"<span class=muted>{note}</span>" if note else ""}</div>'
        )

    def _team(self) -> str:
        team, days = self.review["team"], len(self.review["period"]["days"])
        reviews = team["reviews"]
        metrics = [
            self._metric(
                "response-rate",
                self.t("response_rate"),
                self._rate(team["response_rate"]),
                self.t("target", target=self._rate(self.review["target"])),
            ),
            self._metric("days-at-target", self.t("days_at_target"), f"{team['days_at_target']} / {days}"),
            self._metric(
                "first-response", self.t("first_response"), self._minutes(team["first_response_minutes"])
            ),
            self._metric("resolution", self.t("resolution"), self._minutes(team["resolution_minutes"])),
            self._metric("last-ours", self.t("last_ours"), self._rate(team["last_message_ours"])),
            self._metric("never-answered", self.t("unanswered_never"), str(team["unanswered"])),
            self._metric("waiting", self.t("waiting"), str(team["waiting_past_service_level"])),
            self._metric("broken", self.t("broken"), str(team["broken_promises"])),
            self._metric("reviews", self.t("reviews"), f"{reviews['positive']} / {reviews['negative']}"),
            self._metric("conversations", self.t("conversations"), str(team["conversations"])),
        ]
        return self._section("team", f'<div class="metrics">{"".join(metrics)}</div>', "team")

    def _daily(self) -> str:
        svg = charts.daily_rate(
            self.review["daily"], float(self.review["target"]), self.t("daily"), self.t("no_data")
        )
        return self._section("daily", svg, "daily")

    def _channels(self) -> str:
        rows = [[self._channel(c["channel"]), c["conversations"], self._rate(c["response_rate"]),
                 f'{c["days_at_target"]} / {len(self.review["period"]["days"])}',
                 self._minutes(c["first_response_minutes"]), c["unanswered"], c["waiting_past_service_level"],
                 c["broken_promises"], f'{c["reviews"]["positive"]} / {c["reviews"]["negative"]}']
                for c in self.review["channels"]]
        headers = ["channel", "conversations", "response_rate", "days_at_target", "first_response",
                   "unanswered_never", "waiting", "broken", "reviews"]
        return self._section("channels", self._table(headers, rows, "channels-table"), "channels")

    def _distribution(self) -> str:
        items = [(b["bucket"], float(b["count"])) for b in self.review["response_times"]]
        return self._section("distribution", charts.bars(items, "distribution-chart", self.t("distribution")),
                             "distribution")

    def _link(self, row: dict[str, Any]) -> str:
        name = escape(str(row["id"]))
        if row.get("link"):
            href = escape(row["link"])
            return f'<a href="{href}" target="_blank" rel="noopener" data-testid="open-link">{name}</a>'
        if self.served:
            key = escape(f'{row["source"]}:{row["id"]}')
            return f'<a href="#conversation" data-conversation="{key}" data-testid="open-link">{name}</a>'
        return name

    def _listed(
        self, key: str, testid: str, columns: Sequence[tuple[str, Callable[[dict[str, Any]], object]]]
    ) -> str:
        listing = self.review[key]
        rows = [[self._link(r), *(cell(r) for _, cell in columns)] for r in listing["rows"]]
        table = self._table(["open", *(name for name, _ in columns)], rows, f"{testid}-table")
        total = listing["total"]
        count = f'<p class="muted" data-testid="{testid}-total" data-total="{total}">{total}</p>'
        return self._section(testid.replace("-", "_") if testid != "broken" else "promises",
                             count + table + self._pager(listing, testid), testid)

    def _pager(self, listing: dict[str, Any], testid: str) -> str:
        if listing["pages"] <= 1:
            return ""
        page, pages = listing["page"], listing["pages"]
        buttons = []
        if page > 1:
            buttons.append(
                f'<button type="button" class="button" data-page="{page - 1}">{self.t("previous")}</button>'
            )
        buttons.append(f'<span class="muted">{self.t("page", page=page, pages=pages)}</span>')
        if page < pages:
            buttons.append(
                f'<button type="button" class="button" data-page="{page + 1}">{self.t("next")}</button>'
            )
        return f'<nav class="pager" data-testid="{testid}-pager">{"".join(buttons)}</nav>'

    def _when(self, value: object) -> str:
        return escape(str(value).replace("T", " ")) if value else "—"

    def _unanswered(self) -> str:
        return self._listed(
            "unanswered",
            "unanswered",
            [
                ("channel", lambda r: self._channel(r["channel"])),
                ("customer", lambda r: escape(r["customer"] or "—")),
                ("agent", lambda r: escape(r["agent"] or "—")),
                ("due", lambda r: self._when(r["reply_due"])),
                ("urgency", lambda r: escape(r["urgency"] or "—")),
                ("question", lambda r: escape(r["question"] or "")),
            ],
        )

    def _promises(self) -> str:
        return self._listed(
            "broken_promises",
            "broken",
            [
                ("channel", lambda r: self._channel(r["channel"])),
                ("agent", lambda r: escape(r["agent"] or "—")),
                ("broken", lambda r: r["broken_promises"]),
                ("promise_due", lambda r: self._when(r["promise_due"])),
                ("started", lambda r: self._when(r["started"])),
            ],
        )

    def _agents(self) -> str:
        agents = self.review["agents"]
        rows = [[escape(a["agent"]), a["finished"], self._rate(a["steps_covered"]), self._rate(a["in_order"]),
                 self._rate(a["review_asked"]), a["qa_score"], self._rate(a["response_rate"]),
                 escape(", ".join(f"{rule} {n}" for rule, n in sorted(a["violations"].items())) or "—")]
                for a in agents]
        headers = [
            "agent",
            "finished",
            "steps_covered",
            "in_order",
            "review_asked",
            "qa_score",
            "response_rate",
            "violations",
        ]
        chart = charts.compliance(
            agents, (self.words["steps_covered"], self.words["review_asked"]), self.t("agents")
        )
        return self._section("agents", self._table(headers, rows, "agents-table") + chart, "agents")

    def _orders(self) -> str:
        orders = self.review["orders"]
        title = self.config.title
        rows = [
            [escape(title(r["intent"], self.language)), escape(title(r["reason"], self.language)), r["count"]]
            for r in orders["by_reason"]
        ]
        reasons = [
            (title(reason, self.language), float(count)) for reason, count in orders["reasons"].items()
        ]
        days = sorted({t["day"] for t in orders["trend"]})
        intents = list(orders["by_intent"])
        counts = {(t["day"], t["intent"]): t["count"] for t in orders["trend"]}
        trend = [[escape(day), *(counts.get((day, intent), 0) for intent in intents)] for day in days]
        trend_head = "".join(f"<th>{escape(title(i, self.language))}</th>" for i in intents)
        trend_table = (
            (
                f'<h4 class="sub">{self.t("trend")}</h4><div class="table-wrap">'
                f'<table data-testid="orders-trend"><thead><tr><th>{self.t("day")}</th>{trend_head}</tr>'
                "</thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in trend)
                + "</tbody></table></div>"
            )
            if trend
            else ""
        )
        body = self._table(["intent", "reason", "count"], rows, "orders-table")
        body += charts.bars(reasons[:8], "reasons-chart", self.t("reasons_chart")) + trend_table
        return self._section("orders", body, "orders")

    def _complaints(self) -> str:
        complaints = self.review["complaints"]
        summary = self.t("complaints_summary", total=complaints["complaints"],
                         answerable=complaints["a_policy_answers"], late=complaints["not_solved_at_once"])
        rows = [
            [
                self._link(r),
                self._channel(r["channel"]),
                escape(r["agent"] or "—"),
                escape(self.config.title(r["intent"], self.language)),
                self.t("minutes", value=r["resolution_minutes"])
                if r["resolution_minutes"] is not None
                else "—",
                escape(r["question"] or ""),
            ]
            for r in complaints["rows"]
        ]
        table = self._table(["open", "channel", "agent", "intent", "resolution_time", "question"], rows,
                            "complaints-table")
        return self._section("complaints", f'<p data-testid="complaints-summary">{summary}</p>' + table
                             + self._pager(complaints, "complaints"), "complaints")

    def _gaps(self) -> str:
        gaps = self.review["knowledge_gaps"]
        summary = self.t("gaps_summary", questions=gaps["questions"], groups=gaps["group_count"])
        rows = [[g["count"], escape(g["example"]), escape(self.config.title(g["intent"], self.language)),
                 escape(", ".join(f"{k} {v}" for k, v in g["sources"].items()))] for g in gaps["groups"]]
        return self._section(
            "gaps",
            f"<p>{summary}</p>" + self._table(["count", "example", "intent", "sources"], rows, "gaps-table"),
            "gaps",
        )

    def _drafts(self) -> str:
        drafts = self.review["drafts"]
        if not drafts.get("by_step"):
            return self._section("drafts", f'<p class="empty">{self.t("none")}</p>', "drafts")
        body = ""
        for key, header in (("by_step", "step"), ("by_platform", "platform")):
            rows = [
                [
                    escape(name) if key == "by_step" else self._channel(name),
                    r["drafts"],
                    r["feedback"],
                    self._rate(r["accepted_rate"]),
                    self._rate(r["edited_rate"]),
                    self._rate(r["rejected_rate"]),
                    r["rewritten"],
                ]
                for name, r in (drafts.get(key) or {}).items()
            ]
            body += self._table(
                [header, "conversations", "rated", "accepted", "edited", "rejected", "rewritten"],
                rows,
                f"drafts-{key.replace('_', '-')}",
            )
        return self._section("drafts", body, "drafts")


def fragment(review: dict[str, Any], config: ReviewConfig, language: str, channels: dict[str, str]) -> str:
    return Renderer(review, config, language, channels, served=True).fragment()


def conversation(found: dict[str, Any], language: str, channels: dict[str, str], zone: ZoneInfo) -> str:
    """One stored conversation as the review links to it: who wrote what when, the steps, the rules broken."""
    words = LABELS.get(language, LABELS["en"])
    rows = []
    for message in found["messages_list"]:
        who = (
            escape(message["author"] or ("bot" if message["automatic"] else ""))
            if message["role"] == "agent"
            else escape(found.get("customer") or words["customer"])
        )
        notes = ", ".join(filter(None, [message["steps"], *message["violations"]]))
        rows.append(
            f'<li class="message {message["role"]}" data-role="{message["role"]}"><span class="muted">'
            f"{_clock(message['at'], zone)} · {who}{f' · {escape(notes)}' if notes else ''}</span>"
            f"<p>{escape(message['text'])}</p></li>"
        )
    channel = escape(channels.get(found["platform"], found["platform"]))
    facts = " · ".join(
        escape(str(part)) for part in (found["status"], found.get("urgency"), found.get("intent")) if part
    )
    return (
        f'<section class="card" data-testid="conversation" data-id="{escape(found["external_id"])}">'
        f'<h3 class="section-title">{escape(found["external_id"])} · {channel}</h3>'
        f'<p class="muted">{facts}</p>'
        f'<ol class="transcript">{"".join(rows)}</ol></section>'
    )


def _clock(at: float | None, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M") if at else "—"


def page(review: dict[str, Any], config: ReviewConfig, channels: dict[str, str], styles: str) -> str:
    """One self-contained HTML page with the review in both languages (a switch shows one)."""
    bodies = "".join(
        f'<div class="review" data-lang-body="{lang}" lang="{lang}"{"" if lang == "en" else " hidden"}>'
        f"{Renderer(review, config, lang, channels).fragment()}</div>"
        for lang in LABELS
    )
    switch = "".join(f'<button type="button" data-lang="{lang}" aria-pressed="{str(lang == "en").lower()}">'
                     f"{lang.upper()}</button>" for lang in LABELS)
    script = (
        "document.querySelectorAll('[data-lang]').forEach(b=>b.onclick=()=>{document.querySelectorAll("
        "'[data-lang-body]').forEach(d=>d.hidden=d.dataset.langBody!==b.dataset.lang);"
        "document.querySelectorAll"
        "('[data-lang]').forEach(o=>o.setAttribute('aria-pressed',String(o===b)));})"
    )
    period = review["period"]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>Weekly review {period["since"]} – '
        f'{period["until"]}</title><style>{styles}</style></head><body class="review-page">'
        '<header class="topbar"><h1 class="brand">'
        '<span class="logo" aria-hidden="true">✦</span>Support copilot'
        f'</h1><div class="lang" role="group">{switch}</div></header><main>{bodies}</main>'
        f"<script>{script}</script></body></html>"
    )
