/* The API: JSON requests, the draft stream read as Server-Sent Events, and the error line. */
import { EVENT_END, el, storage, state, t } from "./page.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The stream endpoint is missing or broke before its final event: draft with the plain endpoint. */
export class StreamUnavailable extends Error {}

export function headers(accept, withBody) {
  const result = { Accept: accept };
  if (withBody) result["Content-Type"] = "application/json";
  const key = storage.get("apiKey") || state.sessionKey;
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

export async function errorOf(response) {
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

export async function api(path, { method = "GET", body, signal } = {}) {
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

export function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

/** POST /v1/drafts/stream read as Server-Sent Events; `onDelta` gets text as it is written. */
export async function streamDraft(body, signal, onDelta) {
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
          const message = problem.message || t("httpError", { status: 422 });
          throw new ApiError(422, problem.code || "draft_failed", message);
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

export function showError(message) {
  el.errorText.textContent = message;
  el.error.hidden = false;
}

export function clearError() {
  el.error.hidden = true;
  el.errorText.textContent = "";
}

export function report(error) {
  if (error && error.name === "AbortError") return;
  showError(error instanceof ApiError ? error.message : t("networkError"));
}

export function flash(node, message) {
  node.textContent = message;
  clearTimeout(node.flashTimer);
  node.flashTimer = setTimeout(() => { node.textContent = ""; }, 4000);
}

export function showKeyForm() {
  el.keyForm.hidden = false;
}
