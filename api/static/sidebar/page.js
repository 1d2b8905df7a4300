/* The page's shared parts: its elements, its state, the saved settings and the words of its language. */

// The page's words by language, and the prefixes a pasted line may start with in any of them: read from
// sidebar.<lang>.json for each language of the toggle.
export const I18N = {};
export const PREFIXES = { customer: /(?!)/, agent: /(?!)/ };
export const EVENT_END = /\r\n\r\n|\n\n|\r\r/;
export const CHECK_DELAY_MS = 400;

export const $ = (id) => document.getElementById(id);
export const el = {
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

export const storage = {
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

export const state = {
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

export function t(key, values = {}) {
  const text = I18N[state.lang]?.[key] ?? I18N.en?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}
