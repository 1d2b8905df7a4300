/* Agent sidebar of the support copilot: plain JavaScript, no build step, talks to this same API. */
"use strict";

(() => {
  // The page's words by language, and the prefixes a pasted line may start with in any of them: read from
  // sidebar.<lang>.json for each language of the toggle.
  const I18N = {};
  const PREFIXES = { customer: /(?!)/, agent: /(?!)/ };
  const EVENT_END = /\r\n\r\n|\n\n|\r\r/;
  const CHECK_DELAY_MS = 400;

  const $ = (id) => document.getElementById(id);
  const el = {
    error: $("error"), errorText: $("error-text"), errorClose: $("error-close"),
    keyForm: $("key-form"), key: $("api-key"),
    inputSection: $("input-section"), summary: $("conversation-summary"), conversation: $("conversation"),
    platform: $("platform"), flow: $("flow"), flowField: $("flow-field"),
    customer: $("customer-name"), agent: $("agent-name"), brand: $("brand"), draftButton: $("draft-button"),
    steps: $("steps"), flowTitle: $("flow-title"), nextSteps: $("next-steps"),
    draftSection: $("draft-section"), draftEmpty: $("draft-empty"), draftBody: $("draft-body"),
    draftStep: $("draft-step"), status: $("status"), draft: $("draft"),
    preview: $("preview"), previewText: $("preview-text"), verdict: $("verdict"), repairs: $("repairs"),
    handoff: $("handoff"), copy: $("copy"), insert: $("insert"), regenerate: $("regenerate"),
    actionMessage: $("action-message"), feedbackMessage: $("feedback-message"), model: $("model"),
    degraded: $("degraded"), sourcesSection: $("sources-section"), citations: $("citations"),
    noSources: $("no-sources"), passage: $("passage"), passageTitle: $("passage-title"),
    passageSection: $("passage-section"), passageText: $("passage-text"), passageClose: $("passage-close"),
  };

  const storage = {
    get(name) {
      try { return window.localStorage.getItem(`copilot.sidebar.${name}`); } catch { return null; }
    },
    set(name, value) {
      try {
        if (value) window.localStorage.setItem(`copilot.sidebar.${name}`, value);
        else window.localStorage.removeItem(`copilot.sidebar.${name}`);
      } catch { /* storage blocked in this frame: the value lasts for this page only */ }
    },
  };

  const state = {
    lang: "en",
    platforms: [],
    flows: [],
    response: null,      // the last DraftResponse
    original: "",        // its draft text, to tell an edited draft from an accepted one
    step: null,
    verdict: null,       // the verdict shown now (of the draft or of the agent's edit)
    verdictText: "",     // the text that verdict is about
    controller: null,    // aborts the draft in flight when another one starts
    checkTimer: 0,
    checkSeq: 0,
    lastRequest: null,
    lastDrafted: "",
    sessionKey: "",      // the key typed in this page, in case storage is blocked
    embedded: window.parent !== window,
    locales: null,       // the languages' files, read at start
    ready: null,
  };

  // ---------- language ----------

  function t(key, values = {}) {
    const text = I18N[state.lang]?.[key] ?? I18N.en?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  function setLanguage(lang) {
    state.lang = I18N[lang] ? lang : "en";
    storage.set("lang", state.lang);
    document.documentElement.lang = state.lang;
    document.title = t("appTitle");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const node of document.querySelectorAll("[data-i18n-aria]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nAria));
    }
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
    el.degraded.title = t("degradedTitle");
    el.insert.title = state.embedded ? "" : t("insertUnavailable");
    renderSummary();
    renderSteps();
    if (state.response) renderResult();
  }

  /** Every language's file; a line prefix of any language marks who wrote it, whatever the page shows. */
  async function loadLocales() {
    const byLanguage = await window.loadLocaleFiles("sidebar");
    const files = Object.values(byLanguage);
    for (const [lang, file] of Object.entries(byLanguage)) I18N[lang] = file.strings;
    for (const role of Object.keys(PREFIXES)) {
      const words = files.flatMap((file) => (file.prefixes && file.prefixes[role]) || []);
      const escaped = words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      if (escaped.length) PREFIXES[role] = new RegExp(`^\\s*(${escaped.join("|")})\\s*:\\s?`, "i");
    }
  }

  function initialLanguage() {
    const saved = storage.get("lang");
    if (saved && I18N[saved]) return saved;
    return (navigator.language || "en").toLowerCase().startsWith("vi") ? "vi" : "en";
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** The stream endpoint is missing or broke before its final event: draft with the plain endpoint. */
  class StreamUnavailable extends Error {}

  function headers(accept, withBody) {
    const result = { Accept: accept };
    if (withBody) result["Content-Type"] = "application/json";
    const key = storage.get("apiKey") || state.sessionKey;
    if (key) result.Authorization = `Bearer ${key}`;
    return result;
  }

  async function errorOf(response) {
    let code = `http_${response.status}`;
    let message = t("httpError", { status: response.status });
    try {
      const data = await response.json();
      if (data && data.error) {
        code = data.error.code || code;
        message = data.error.message || message;
      }
    } catch { /* not JSON: keep the generic message */ }
    if (response.status === 401) showKeyForm();
    return new ApiError(response.status, code, message);
  }

  async function api(path, { method = "GET", body, signal } = {}) {
    let response;
    try {
      const init = { method, signal, headers: headers("application/json", body !== undefined) };
      if (body !== undefined) init.body = JSON.stringify(body);
      response = await fetch(path, init);
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network", t("networkError"));
    }
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return data.length ? { event, data: data.join("\n") } : null;
  }

  /** POST /v1/drafts/stream read as Server-Sent Events; `onDelta` gets text as it is written. */
  async function streamDraft(body, signal, onDelta) {
    let response;
    try {
      response = await fetch("/v1/drafts/stream", {
        method: "POST", signal, headers: headers("text/event-stream", true), body: JSON.stringify(body),
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new StreamUnavailable(error.message);
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status >= 400 && response.status < 500 && ![404, 405].includes(response.status)) throw error;
      throw new StreamUnavailable(error.message);
    }
    if (!response.body || !response.body.getReader) throw new StreamUnavailable("no readable body");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let final = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
        let separator;
        while ((separator = EVENT_END.exec(buffer))) {
          const event = parseEvent(buffer.slice(0, separator.index));
          buffer = buffer.slice(separator.index + separator[0].length);
          if (!event) continue;
          const data = JSON.parse(event.data);
          if (event.event === "delta") onDelta(data.text || "");
          else if (event.event === "final") final = data;
          else if (event.event === "error") {
            const problem = data.error || {};
            throw new ApiError(422, problem.code || "draft_failed", problem.message || t("httpError", { status: 422 }));
          }
        }
        if (done) break;
      }
    } catch (error) {
      if (error instanceof ApiError || error.name === "AbortError") throw error;
      throw new StreamUnavailable(error.message);
    }
    if (!final) throw new StreamUnavailable("the stream ended without a final event");
    return final;
  }

  // ---------- messages ----------

  function showError(message) {
    el.errorText.textContent = message;
    el.error.hidden = false;
  }

  function clearError() {
    el.error.hidden = true;
    el.errorText.textContent = "";
  }

  function report(error) {
    if (error && error.name === "AbortError") return;
    showError(error instanceof ApiError ? error.message : t("networkError"));
  }

  function flash(node, message) {
    node.textContent = message;
    clearTimeout(node.flashTimer);
    node.flashTimer = setTimeout(() => { node.textContent = ""; }, 4000);
  }

  function showKeyForm() {
    el.keyForm.hidden = false;
  }

  // ---------- catalog ----------

  function platformTitle(id) {
    const platform = state.platforms.find((p) => p.id === id);
    return platform ? platform.title : id;
  }

  function currentFlow() {
    return state.flows.find((f) => f.id === el.flow.value) || state.flows.find((f) => f.default)
      || state.flows[0] || null;
  }

  function fillSelect(select, items, wanted) {
    select.replaceChildren(...items.map((item) => new Option(item.title, item.id)));
    if (items.some((item) => item.id === wanted)) select.value = wanted;
  }

  /** The id the API marks as the default (the knowledge base's default platform, the contract's flow). */
  function defaultOf(items) {
    const chosen = items.find((item) => item.default) || items[0];
    return chosen ? chosen.id : "";
  }

  async function loadCatalog() {
    try {
      const [platforms, flows] = await Promise.all([api("/v1/platforms"), api("/v1/flows")]);
      state.platforms = platforms;
      state.flows = flows;
      fillSelect(el.platform, platforms, el.platform.value || storage.get("platform") || defaultOf(platforms));
      fillSelect(el.flow, flows, el.flow.value || defaultOf(flows));
      el.flowField.hidden = flows.length < 2;
      el.keyForm.hidden = true;
      renderSteps();
      return true;
    } catch (error) {
      report(error);
      return false;
    }
  }

  // ---------- conversation ----------

  /** "C: ..." / "A: ..." lines to messages; a line without a prefix continues the message above. */
  function parseConversation(text) {
    const messages = [];
    for (const line of text.split(/\r?\n/)) {
      if (!line.trim()) continue;
      let role = null;
      let body = line;
      if (PREFIXES.customer.test(line)) { role = "customer"; body = line.replace(PREFIXES.customer, ""); }
      else if (PREFIXES.agent.test(line)) { role = "agent"; body = line.replace(PREFIXES.agent, ""); }
      body = body.trim();
      const last = messages[messages.length - 1];
      if (!role && last) last.text = last.text ? `${last.text}\n${body}` : body;
      else messages.push({ role: role || "customer", text: body });
    }
    return messages.filter((message) => message.text);
  }

  function renderSummary() {
    const messages = parseConversation(el.conversation.value);
    const parts = messages.length ? [t("messagesCount", { n: messages.length })] : [];
    if (el.customer.value.trim()) parts.push(el.customer.value.trim());
    el.summary.textContent = parts.length ? `· ${parts.join(" · ")}` : "";
  }

  /** The draft box grows with its text (up to a limit), so the agent reads the whole reply without scrolling. */
  function fitDraft() {
    el.draft.style.height = "auto";
    el.draft.style.height = `${Math.min(el.draft.scrollHeight + 2, 360)}px`;
  }

  function draftRequest() {
    const orNull = (input) => input.value.trim() || null;
    return {
      platform: el.platform.value || defaultOf(state.platforms),
      flow: el.flow.value || defaultOf(state.flows),
      language: "auto",
      customer: { name: orNull(el.customer) },
      agent: { name: orNull(el.agent), brand: orNull(el.brand) },
      messages: parseConversation(el.conversation.value),
    };
  }

  // ---------- drafting ----------

  function setBusy(busy) {
    el.draftSection.setAttribute("aria-busy", String(busy));
    el.draftButton.disabled = busy;
    el.regenerate.disabled = busy;
    el.draft.readOnly = busy;
    for (const button of document.querySelectorAll("[data-action]")) button.disabled = busy || !state.response;
    el.copy.disabled = busy;
    el.insert.disabled = busy;
  }

  function startDraftView() {
    state.response = null;
    state.verdict = null;
    el.draftSection.dataset.state = "streaming";
    el.draftEmpty.hidden = true;
    el.draftBody.hidden = false;
    el.draft.value = "";
    el.draft.style.height = "";
    el.status.textContent = t("writing");
    for (const node of [el.verdict, el.previewText, el.citations]) node.replaceChildren();
    for (const node of [el.preview, el.repairs, el.handoff, el.degraded, el.draftStep, el.sourcesSection, el.passage]) {
      node.hidden = true;
    }
    el.model.textContent = "";
    el.feedbackMessage.textContent = "";
    el.actionMessage.textContent = "";
    for (const button of document.querySelectorAll("[data-action]")) {
      button.classList.remove("chosen");
      button.setAttribute("aria-pressed", "false");
    }
  }

  async function draft() {
    await state.locales.catch(() => undefined);  // the line prefixes
    const request = draftRequest();
    if (!request.messages.length) {
      showError(t("emptyConversation"));
      el.inputSection.open = true;
      el.conversation.focus();
      return;
    }
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    state.lastRequest = request;
    state.lastDrafted = `${request.platform}\n${el.conversation.value}`;
    clearTimeout(state.checkTimer);
    state.checkSeq += 1;
    clearError();
    startDraftView();
    setBusy(true);
    try {
      let response;
      try {
        response = await streamDraft(request, controller.signal, (text) => {
          el.draft.value += text;
          fitDraft();
        });
      } catch (error) {
        if (!(error instanceof StreamUnavailable)) throw error;
        el.draft.value = "";
        response = await api("/v1/drafts", { method: "POST", body: request, signal: controller.signal });
      }
      if (controller !== state.controller) return;
      showDraft(response);
    } catch (error) {
      if (controller !== state.controller) return;
      el.draftSection.dataset.state = "error";
      state.lastDrafted = "";
      el.status.textContent = "";
      if (!el.draft.value) { el.draftBody.hidden = true; el.draftEmpty.hidden = false; }
      report(error);
    } finally {
      if (controller === state.controller) {
        state.controller = null;
        setBusy(false);
      }
    }
  }

  function showDraft(response) {
    state.response = response;
    state.original = response.draft;
    state.step = response.step;
    state.verdict = response.guardrails;
    state.verdictText = response.draft;
    el.draft.value = response.draft;
    el.status.textContent = "";
    el.draftSection.dataset.state = "ready";
    el.draftSection.dataset.draftId = response.draft_id;
    el.passage.hidden = true;
    el.inputSection.open = false;
    renderResult();
    fitDraft();
  }

  /** Everything drawn from the last response; called again when the UI language changes. */
  function renderResult() {
    const response = state.response;
    renderSteps();
    // The acts the draft performs, in order ("Greeting + Troubleshoot"); older servers send only the step.
    const acts = response.acts && response.acts.length ? response.acts : [response.step];
    const titleOf = (id) => currentFlow()?.steps.find((s) => s.id === id)?.title || id;
    el.draftStep.textContent = acts.map(titleOf).join(" + ");
    el.draftStep.dataset.acts = acts.join(" ");
    el.draftStep.hidden = false;
    renderVerdict();
    const repairs = response.guardrails.repairs || [];
    el.repairs.hidden = !repairs.length;
    el.repairs.textContent = repairs.length ? t("autoFixed", { items: repairs.join("; ") }) : "";
    const reason = response.handoff && (response.handoff.reason || response.handoff.message);
    el.handoff.hidden = !response.handoff;
    el.handoff.textContent = response.handoff
      ? t("handoff", { reason: reason || JSON.stringify(response.handoff) }) : "";
    el.model.textContent = t("modelLine", { model: response.model, ms: Math.round(response.latency_ms) });
    el.degraded.hidden = !response.degraded;
    renderCitations(response.citations || []);
  }

  // ---------- steps ----------

  function renderSteps() {
    const flow = currentFlow();
    el.flowTitle.textContent = flow ? flow.title : "";
    if (!flow) { el.steps.replaceChildren(); return; }
    const done = new Set(state.response ? state.response.steps_done : []);
    const current = state.response ? state.response.step : null;
    el.steps.style.setProperty("--rows", String(Math.ceil(flow.steps.length / 2)));
    el.steps.replaceChildren(...flow.steps.map((step, index) => {
      const status = step.id === current ? "current" : done.has(step.id) ? "done" : "todo";
      const statusLabel = t({ current: "stepCurrent", done: "stepDone", todo: "stepTodo" }[status]);
      const item = document.createElement("li");
      item.className = `step step-${status}`;
      Object.assign(item.dataset, { testid: "step", step: step.id, state: status });
      item.title = `${step.title} (${statusLabel})`;
      if (status === "current") item.setAttribute("aria-current", "step");
      const marker = document.createElement("span");
      marker.className = "step-marker";
      marker.setAttribute("aria-hidden", "true");
      marker.textContent = status === "done" ? "✓" : String(index + 1);
      const label = document.createElement("span");
      label.className = "step-label";
      label.textContent = step.title;
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = `, ${statusLabel}`;
      item.append(marker, label, hidden);
      return item;
    }));
    const next = state.response ? state.response.next_steps : [];
    const titles = next.map((id) => flow.steps.find((s) => s.id === id)?.title || id);
    el.nextSteps.hidden = !titles.length;
    el.nextSteps.textContent = titles.length ? t("next", { steps: titles.join(" · ") }) : "";
  }

  // ---------- guardrails ----------

  function renderVerdict() {
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
  function utf16Offset(text, codePoints) {
    let index = 0;
    for (let seen = 0; seen < codePoints && index < text.length; seen += 1) {
      index += text.codePointAt(index) > 0xffff ? 2 : 1;
    }
    return index;
  }

  function renderPreview() {
    const text = state.verdictText;
    const spans = (state.verdict ? state.verdict.violations : [])
      .filter((v) => Array.isArray(v.span) && v.span[1] > v.span[0])
      .map((v) => ({ start: utf16Offset(text, v.span[0]), end: utf16Offset(text, v.span[1]), message: v.message }))
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

  function scheduleCheck() {
    if (!state.response || state.controller) return;
    clearTimeout(state.checkTimer);
    state.checkSeq += 1;
    el.verdict.classList.add("stale");
    el.status.textContent = t("checking");
    state.checkTimer = setTimeout(checkDraft, CHECK_DELAY_MS);
  }

  async function checkDraft() {
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

  function renderCitations(citations) {
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

  async function showPassage(chip, citation) {
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

  function closePassage() {
    el.passage.hidden = true;
    for (const chip of el.citations.querySelectorAll(".chip")) {
      chip.classList.remove("active");
      chip.setAttribute("aria-expanded", "false");
    }
  }

  // ---------- actions ----------

  async function copyDraft() {
    const text = el.draft.value;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      el.draft.select();
      try { document.execCommand("copy"); } catch { /* the text stays selected for Ctrl+C */ }
    }
    flash(el.actionMessage, t("copied"));
  }

  function insertDraft() {
    if (!state.embedded) { flash(el.actionMessage, t("insertUnavailable")); return; }
    window.parent.postMessage({ type: "copilot:insert", text: el.draft.value }, "*");
    flash(el.actionMessage, t("sentToHelpdesk"));
  }

  async function sendFeedback(action) {
    if (!state.response) return;
    const text = el.draft.value;
    const edited = text !== state.original;
    const body = {
      draft_id: state.response.draft_id,
      action: action === "accepted" && edited ? "edited" : action,
      final_text: text,
    };
    try {
      await api("/v1/feedback", { method: "POST", body });
      for (const button of document.querySelectorAll("[data-action]")) {
        const chosen = button.dataset.action === body.action;
        button.classList.toggle("chosen", chosen);
        button.setAttribute("aria-pressed", String(chosen));
      }
      flash(el.feedbackMessage, t("feedbackSaved"));
    } catch (error) {
      report(error);
    }
  }

  // ---------- Chatwoot dashboard app ----------

  function chatwootRole(type) {
    if (type === 0 || type === "incoming") return "C";
    if (type === 1 || type === "outgoing") return "A";
    return null;
  }

  function applyAppContext(context) {
    const conversation = context.conversation || {};
    const lines = [];
    for (const message of conversation.messages || []) {
      const role = chatwootRole(message.message_type);
      const text = message.content == null ? "" : String(message.content).trim();
      if (!role || !text || message.private) continue;
      lines.push(`${role}: ${text}`);
    }
    const customer = (context.contact && context.contact.name)
      || (conversation.meta && conversation.meta.sender && conversation.meta.sender.name);
    if (customer) el.customer.value = customer;
    if (context.currentAgent && context.currentAgent.name) {
      el.agent.value = context.currentAgent.name;
      storage.set("agent", el.agent.value);
    }
    const channel = conversation.channel || (conversation.meta && conversation.meta.channel);
    const platform = channel ? chatwootPlatform(channel) : null;
    if (platform && state.platforms.some((p) => p.id === platform)) el.platform.value = platform;
    if (!lines.length) { renderSummary(); return; }
    el.conversation.value = lines.join("\n");
    renderSummary();
    if (`${el.platform.value}\n${el.conversation.value}` === state.lastDrafted) return;
    draft();
  }

  // The platforms name their Chatwoot channels (knowledge/platforms.yaml, served by /v1/platforms), as the
  // webhook reads them: a channel none names is on the default platform.
  function chatwootPlatform(channel) {
    const named = state.platforms.find((p) => (p.chatwoot || []).includes(channel));
    if (named) return named.id;
    if (state.platforms.some((p) => p.id === channel)) return channel;
    const fallback = state.platforms.find((p) => p.default);
    return fallback ? fallback.id : null;
  }

  async function onMessage(event) {
    let data = event.data;
    if (typeof data === "string") {
      if (!data.trim().startsWith("{")) return;
      try { data = JSON.parse(data); } catch { return; }
    }
    if (!data || typeof data !== "object" || data.event !== "appContext" || !data.data) return;
    await state.ready;
    applyAppContext(data.data);
  }

  // ---------- wiring ----------

  function remember(input, name) {
    input.value = storage.get(name) || "";
    input.addEventListener("change", () => storage.set(name, input.value.trim()));
  }

  function wire() {
    remember(el.agent, "agent");
    remember(el.brand, "brand");
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => setLanguage(button.dataset.lang));
    }
    el.errorClose.addEventListener("click", clearError);
    el.draftButton.addEventListener("click", draft);
    el.regenerate.addEventListener("click", draft);
    el.conversation.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); draft(); }
    });
    el.conversation.addEventListener("input", renderSummary);
    el.customer.addEventListener("input", renderSummary);
    el.platform.addEventListener("change", () => {
      storage.set("platform", el.platform.value);
      if (state.response) scheduleCheck();
    });
    el.flow.addEventListener("change", renderSteps);
    el.draft.addEventListener("input", () => { fitDraft(); scheduleCheck(); });
    el.copy.addEventListener("click", copyDraft);
    el.insert.addEventListener("click", insertDraft);
    el.passageClose.addEventListener("click", closePassage);
    for (const button of document.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => sendFeedback(button.dataset.action));
    }
    el.keyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = el.key.value.trim();
      if (!key) return;
      state.sessionKey = key;
      storage.set("apiKey", key);
      el.key.value = "";
      clearError();
      state.ready = loadCatalog().then((loaded) => {
        if (loaded && state.embedded) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
      });
    });
    window.addEventListener("message", onMessage);
  }

  async function start() {
    try {
      await state.locales;
    } catch (error) {
      showError(error.message);
    }
    setLanguage(initialLanguage());
    return loadCatalog();
  }

  state.locales = loadLocales();
  wire();
  setBusy(false);
  state.ready = start();
  if (state.embedded) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*");
})();
