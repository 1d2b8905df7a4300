/* The catalog of platforms and flows, and the pasted conversation read into a draft request. */
import { PREFIXES, el, storage, state, t } from "./page.js";
import { api, report } from "./api.js";
import { renderSteps } from "./draft.js";

export function platformTitle(id) {
  const platform = state.platforms.find((p) => p.id === id);
  return platform ? platform.title : id;
}

export function currentFlow() {
  return state.flows.find((f) => f.id === el.flow.value) || state.flows.find((f) => f.default)
    || state.flows[0] || null;
}

export function fillSelect(select, items, wanted) {
  select.replaceChildren(...items.map((item) => new Option(item.title, item.id)));
  if (items.some((item) => item.id === wanted)) select.value = wanted;
}

/** The id the API marks as the default (the knowledge base's default platform, the contract's flow). */
export function defaultOf(items) {
  const chosen = items.find((item) => item.default) || items[0];
  return chosen ? chosen.id : "";
}

export async function loadCatalog() {
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
export function parseConversation(text) {
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

export function renderSummary() {
  const messages = parseConversation(el.conversation.value);
  const parts = messages.length ? [t("messagesCount", { n: messages.length })] : [];
  if (el.customer.value.trim()) parts.push(el.customer.value.trim());
  el.summary.textContent = parts.length ? `· ${parts.join(" · ")}` : "";
}

/** The draft box grows with its text (up to a limit): the agent reads the whole reply without scrolling. */
export function fitDraft() {
  el.draft.style.height = "auto";
  el.draft.style.height = `${Math.min(el.draft.scrollHeight + 2, 360)}px`;
}

export function draftRequest() {
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
