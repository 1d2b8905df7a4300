/* The weekly review page: filters in the URL, the report fetched as HTML (its charts are inline SVG) from
   /v1/review/html with the API key the sidebar keeps, in English or Vietnamese. */
(() => {
  "use strict";

  const I18N = {};  // the page's words by language, from review.<lang>.json for each language of the toggle
  const $ = (id) => document.getElementById(id);
  const storage = {
    get(key) { try { return localStorage.getItem(`copilot.sidebar.${key}`); } catch { return null; } },
    set(key, value) {
      try { localStorage.setItem(`copilot.sidebar.${key}`, value); } catch { /* this page only */ }
    },
  };
  const state = { lang: "en", page: 1, sessionKey: "" };

  function t(key) { return (I18N[state.lang] || I18N.en || {})[key] || I18N.en?.[key] || key; }

  async function loadLocales() {
    const files = await window.loadLocaleFiles("review");
    for (const [lang, file] of Object.entries(files)) I18N[lang] = file.strings;
  }

  function setLanguage(lang) {
    state.lang = I18N[lang] ? lang : "en";
    storage.set("lang", state.lang);
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-aria]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nAria));
    }
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
  }

  function params() {
    const query = new URLSearchParams();
    for (const name of ["since", "until", "channel", "agent"]) {
      const value = $(name).value.trim();
      if (value) query.set(name, value);
    }
    if (state.page > 1) query.set("page", String(state.page));
    return query;
  }

  function headers() {
    const key = storage.get("apiKey") || state.sessionKey;
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  function showError(message) {
    $("error-text").textContent = message;
    $("error").hidden = !message;
  }

  async function load() {
    const query = params();
    history.replaceState(null, "", `${location.pathname}?${query}`);
    query.set("lang", state.lang);
    showError("");
    $("report").setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(`/v1/review/html?${query}`, { headers: headers() });
    } catch {
      showError(t("network"));
      return;
    } finally {
      $("report").removeAttribute("aria-busy");
    }
    if (response.status === 401) $("key-form").hidden = false;
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error.message || message; } catch { /* keep the status */ }
      showError(message);
      return;
    }
    $("report").innerHTML = await response.text();
    $("report").dataset.loaded = query.toString();
    const latest = $("report").querySelector("[data-latest]");
    if (latest && latest.dataset.latest) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.dataset.testid = "show-latest";
      button.textContent = t("showLatest");
      button.onclick = () => {
        $("until").value = latest.dataset.latest;
        $("since").value = "7d";
        state.page = 1;
        load();
      };
      latest.after(" ", button);
    }
  }

  /** A stored conversation a list links to, shown above the report. */
  async function openConversation(key) {
    const split = key.indexOf(":");
    const query = new URLSearchParams({
      source: key.slice(0, split), id: key.slice(split + 1), lang: state.lang,
    });
    let response;
    try {
      response = await fetch(`/v1/review/conversation/html?${query}`, { headers: headers() });
    } catch {
      showError(t("network"));
      return;
    }
    if (!response.ok) { showError(`HTTP ${response.status}`); return; }
    $("conversation-view").innerHTML = await response.text();
    $("conversation-view").scrollIntoView();
  }

  async function channels() {
    if ($("channel").options.length > 1) return;
    try {
      const response = await fetch("/v1/platforms", { headers: headers() });
      if (!response.ok) return;
      const data = await response.json();
      const list = Array.isArray(data) ? data : data.platforms || [];
      for (const platform of list) {
        const option = document.createElement("option");
        option.value = platform.id || platform.name || platform;
        option.textContent = platform.title || option.value;
        $("channel").append(option);
      }
    } catch { /* the filter keeps "all channels" */ }
  }

  async function start() {
    const url = new URLSearchParams(location.search);
    for (const name of ["since", "until", "channel", "agent"]) {
      if (url.get(name)) $(name).value = url.get(name);
    }
    state.page = Number(url.get("page")) || 1;
    try { await loadLocales(); } catch (error) { showError(error.message); }
    const saved = url.get("lang") || storage.get("lang");
    setLanguage(saved || ((navigator.language || "en").toLowerCase().startsWith("vi") ? "vi" : "en"));
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => { setLanguage(button.dataset.lang); load(); });
    }
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); state.page = 1; load(); });
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      state.sessionKey = $("api-key").value.trim();
      storage.set("apiKey", state.sessionKey);
      $("key-form").hidden = true;
      const wanted = new URLSearchParams(location.search).get("channel");
      channels().then(() => { if (wanted) $("channel").value = wanted; load(); });
    });
    $("report").addEventListener("click", (event) => {
      const button = event.target.closest("[data-page]");
      if (button) { state.page = Number(button.dataset.page); load(); return; }
      const link = event.target.closest("[data-conversation]");
      if (link) { event.preventDefault(); openConversation(link.dataset.conversation); }
    });
    const wanted = url.get("channel");
    channels().then(() => { if (wanted) $("channel").value = wanted; load(); });
  }

  start();
})();
