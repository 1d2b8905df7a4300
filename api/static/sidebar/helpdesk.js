/* What the agent does with a draft (copy, insert, feedback) and the Chatwoot dashboard app. */
import { el, storage, state, t } from "./page.js";
import { api, report, flash } from "./api.js";
import { renderSummary } from "./conversation.js";
import { draft } from "./draft.js";

export async function copyDraft() {
  const text = el.draft.value;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    el.draft.select();
    try { document.execCommand("copy"); } catch { /* the text stays selected for Ctrl+C */ }
  }
  flash(el.actionMessage, t("copied"));
}

export function insertDraft() {
  if (!state.embedded) { flash(el.actionMessage, t("insertUnavailable")); return; }
  window.parent.postMessage({ type: "copilot:insert", text: el.draft.value }, "*");
  flash(el.actionMessage, t("sentToHelpdesk"));
}

export async function sendFeedback(action) {
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

export function chatwootRole(type) {
  if (type === 0 || type === "incoming") return "C";
  if (type === 1 || type === "outgoing") return "A";
  return null;
}

export function applyAppContext(context) {
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
export function chatwootPlatform(channel) {
  const named = state.platforms.find((p) => (p.chatwoot || []).includes(channel));
  if (named) return named.id;
  if (state.platforms.some((p) => p.id === channel)) return channel;
  const fallback = state.platforms.find((p) => p.default);
  return fallback ? fallback.id : null;
}

export async function onMessage(event) {
  let data = event.data;
  if (typeof data === "string") {
    if (!data.trim().startsWith("{")) return;
    try { data = JSON.parse(data); } catch { return; }
  }
  if (!data || typeof data !== "object" || data.event !== "appContext" || !data.data) return;
  await state.ready;
  applyAppContext(data.data);
}
