/* The guardrails' verdict on the draft (checked again as the agent edits it) and its sources. */
import { CHECK_DELAY_MS, el, state, t } from "./page.js";
import { api, report } from "./api.js";
import { platformTitle, defaultOf } from "./conversation.js";

export function renderVerdict() {
  const verdict = state.verdict;
  el.verdict.replaceChildren();
  el.verdict.className = "verdict";
  if (!verdict) { el.verdict.hidden = true; renderPreview(); return; }
  el.verdict.hidden = false;
  const violations = verdict.violations || [];
  const platform = platformTitle(el.platform.value || (state.lastRequest && state.lastRequest.platform));
  const head = document.createElement("p");
  head.className = "verdict-head";
  if (!violations.length) {
    el.verdict.classList.add("verdict-ok");
    el.verdict.dataset.state = "ok";
    head.textContent = `✓ ${t("passes", { platform })}`;
    el.verdict.append(head);
  } else {
    el.verdict.classList.add(verdict.allowed ? "verdict-warn" : "verdict-bad");
    el.verdict.dataset.state = verdict.allowed ? "warning" : "blocked";
    head.textContent = `⚠ ${verdict.allowed ? t("warnings") : t("blocked", { platform })}`;
    const list = document.createElement("ul");
    list.className = "violations";
    for (const violation of violations) {
      const item = document.createElement("li");
      item.dataset.rule = violation.rule;
      item.dataset.testid = "violation";
      item.textContent = violation.message;
      list.append(item);
    }
    el.verdict.append(head, list);
  }
  renderPreview();
}

/** Code-point offsets from the server to positions in a JavaScript (UTF-16) string. */
export function utf16Offset(text, codePoints) {
  let index = 0;
  for (let seen = 0; seen < codePoints && index < text.length; seen += 1) {
    index += text.codePointAt(index) > 0xffff ? 2 : 1;
  }
  return index;
}

export function renderPreview() {
  const text = state.verdictText;
  const spans = (state.verdict ? state.verdict.violations : [])
    .filter((v) => Array.isArray(v.span) && v.span[1] > v.span[0])
    .map((v) => ({
      start: utf16Offset(text, v.span[0]), end: utf16Offset(text, v.span[1]), message: v.message,
    }))
    .sort((a, b) => a.start - b.start);
  el.previewText.replaceChildren();
  el.preview.hidden = !spans.length;
  let cursor = 0;
  for (const span of spans) {
    if (span.end <= cursor) continue;
    const start = Math.max(span.start, cursor);
    if (start > cursor) el.previewText.append(text.slice(cursor, start));
    const mark = document.createElement("mark");
    mark.title = span.message;
    mark.textContent = text.slice(start, span.end);
    el.previewText.append(mark);
    cursor = span.end;
  }
  el.previewText.append(text.slice(cursor));
}

export function scheduleCheck() {
  if (!state.response || state.controller) return;
  clearTimeout(state.checkTimer);
  state.checkSeq += 1;
  el.verdict.classList.add("stale");
  el.status.textContent = t("checking");
  state.checkTimer = setTimeout(checkDraft, CHECK_DELAY_MS);
}

export async function checkDraft() {
  const seq = ++state.checkSeq;
  const text = el.draft.value;
  if (!text.trim()) {
    state.verdict = null;
    el.status.textContent = "";
    renderVerdict();
    return;
  }
  const body = {
    text,
    platform: el.platform.value || defaultOf(state.platforms),
    flow: el.flow.value || defaultOf(state.flows),
    step: state.step, language: "auto",
  };
  try {
    const verdict = await api("/v1/guardrails/check", { method: "POST", body });
    if (seq !== state.checkSeq) return;
    state.verdict = verdict;
    state.verdictText = text;
    renderVerdict();
  } catch (error) {
    if (seq === state.checkSeq) report(error);
  } finally {
    if (seq === state.checkSeq) el.status.textContent = "";
  }
}

// ---------- citations ----------

export function renderCitations(citations) {
  el.sourcesSection.hidden = false;
  el.noSources.hidden = citations.length > 0;
  el.citations.replaceChildren(...citations.map((citation, index) => {
    const item = document.createElement("li");
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    Object.assign(chip.dataset, { testid: "citation", id: citation.id, section: citation.section });
    const label = t("sourceLabel", { n: index + 1, title: citation.title, section: citation.section });
    chip.setAttribute("aria-label", label);
    chip.setAttribute("aria-expanded", "false");
    chip.setAttribute("aria-controls", "passage");
    const number = document.createElement("span");
    number.className = "chip-number";
    number.textContent = `[${index + 1}]`;
    const text = document.createElement("span");
    text.className = "chip-text";
    const title = document.createElement("span");
    title.className = "chip-title";
    title.textContent = citation.title;
    const section = document.createElement("span");
    section.className = "chip-section";
    section.textContent = citation.section;
    text.append(title, section);
    chip.append(number, text);
    chip.addEventListener("click", () => showPassage(chip, citation));
    item.append(chip);
    return item;
  }));
}

export async function showPassage(chip, citation) {
  for (const other of el.citations.querySelectorAll(".chip")) {
    other.classList.toggle("active", other === chip);
    other.setAttribute("aria-expanded", String(other === chip));
  }
  el.passage.hidden = false;
  el.passageTitle.textContent = citation.title;
  el.passageSection.textContent = citation.section;
  el.passageText.textContent = t("loading");
  const query = new URLSearchParams({ id: citation.id, section: citation.section });
  try {
    const passage = await api(`/v1/knowledge/passages?${query}`);
    if (!chip.classList.contains("active")) return;
    el.passageTitle.textContent = passage.title;
    el.passageSection.textContent = passage.section;
    el.passageText.textContent = passage.text;
  } catch (error) {
    el.passage.hidden = true;
    report(error);
  }
}

export function closePassage() {
  el.passage.hidden = true;
  for (const chip of el.citations.querySelectorAll(".chip")) {
    chip.classList.remove("active");
    chip.setAttribute("aria-expanded", "false");
  }
}
