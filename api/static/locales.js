/* The pages' words live in `<page>.<lang>.json` next to them, one file per language button the page shows. */
(function () {
  "use strict";

  /** Every language file of `page`, keyed by language; a missing file is an error naming it. */
  async function loadLocaleFiles(page) {
    const buttons = document.querySelectorAll("button[data-lang]");
    const languages = [...new Set([...buttons].map((button) => button.dataset.lang))];
    const files = await Promise.all(languages.map(async (lang) => {
      const response = await fetch(`/static/${page}.${lang}.json`);
      if (!response.ok) throw new Error(`${page}.${lang}.json: HTTP ${response.status}`);
      return response.json();
    }));
    return Object.fromEntries(languages.map((lang, index) => [lang, files[index]]));
  }

  window.loadLocaleFiles = loadLocaleFiles;
})();
