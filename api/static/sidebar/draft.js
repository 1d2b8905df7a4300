/* Drafting: the request sent, the draft shown as it is written, and the flow's steps. */
import { el, state, t } from "./page.js";
import { StreamUnavailable, api, streamDraft, showError, clearError, report } from "./api.js";
import { currentFlow, fitDraft, draftRequest } from "./conversation.js";
import { renderVerdict, renderCitations } from "./checks.js";

export function setBusy(busy) {
  el.draftSection.setAttribute("aria-busy", String(busy));
  el.draftButton.disabled = busy;
  el.regenerate.disabled = busy;
  el.draft.readOnly = busy;
  for (const button of document.querySelectorAll("[data-action]")) button.disabled = busy || !state.response;
  el.copy.disabled = busy;
  el.insert.disabled = busy;
}

export function startDraftView() {
  state.response = null;
  state.verdict = null;
  el.draftSection.dataset.state = "streaming";
  el.draftEmpty.hidden = true;
  el.draftBody.hidden = false;
  el.draft.value = "";
  el.draft.style.height = "";
  el.status.textContent = t("writing");
  for (const node of [el.verdict, el.previewText, el.citations]) node.replaceChildren();
  const hidden = [el.preview, el.repairs, el.handoff, el.degraded, el.draftStep, el.sourcesSection];
  for (const node of [...hidden, el.passage]) node.hidden = true;
  el.model.textContent = "";
  el.feedbackMessage.textContent = "";
  el.actionMessage.textContent = "";
  for (const button of document.querySelectorAll("[data-action]")) {
    button.classList.remove("chosen");
    button.setAttribute("aria-pressed", "false");
  }
}

export async function draft() {
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

export function showDraft(response) {
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
export function renderResult() {
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

export function renderSteps() {
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
