/* Agent sidebar of the support copilot: plain JavaScript modules, no build step, talking to this same
 * API. This file sets the language and wires the page; the parts live in `sidebar/`. */
import { I18N, PREFIXES, el, storage, state, t } from "./sidebar/page.js";
import { showError, clearError } from "./sidebar/api.js";
import { loadCatalog, renderSummary, fitDraft } from "./sidebar/conversation.js";
import { setBusy, draft, renderResult, renderSteps } from "./sidebar/draft.js";
import { scheduleCheck, closePassage } from "./sidebar/checks.js";
import { copyDraft, insertDraft, sendFeedback, onMessage } from "./sidebar/helpdesk.js";

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
