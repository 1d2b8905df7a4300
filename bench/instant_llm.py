"""An OpenAI-compatible chat server on 127.0.0.1 that answers at once, so the bench can time what the copilot
itself adds in front of a real LLM. It keeps how long it spent on each request, to subtract it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from copilot.compose.slots import SLOT


def instant_reply(messages: list[dict[str, Any]]) -> str:
    """A plausible reply taken from the prompt itself: the first example line of the step instructions (the
    bullet lines that close the system message; slots dropped), citing the first passage when there is one.
    The bench writes no reply text of its own."""
    system = str(messages[0].get("content", "")) if messages else ""
    lines = system.rstrip().splitlines()
    examples: list[str] = []
    while lines and lines[-1].startswith("- "):
        examples.insert(0, lines.pop()[2:].strip())
    usable = [line for line in examples if not line.startswith("(")]
    reply = " ".join(SLOT.sub("", usable[0]).split()) if usable else ""
    user = str(messages[-1].get("content", "")) if messages else ""
    cite = " [1]" if "\n[1] " in f"\n{user}" else ""
    return f"{reply or 'OK.'}{cite}"


class InstantLLMServer:
    """`/v1/chat/completions` (plain and streamed) on a free loopback port; `calls` and `busy_seconds` count the
    requests served and the time spent serving them."""

    def __init__(self) -> None:
        self.calls = 0
        self.busy_seconds = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> InstantLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def busy(self) -> tuple[int, float]:
        """Calls served and seconds spent so far (read before and after a request to get its share)."""
        with self._lock:
            return self.calls, self.busy_seconds

    def _served(self, seconds: float) -> None:
        with self._lock:
            self.calls += 1
            self.busy_seconds += seconds

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the body waits for the client's
            # delayed ACK (40 ms), which is not what a real LLM server does.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                # Counted before the answer is written: a client that has read the answer sees the call counted.
                started = time.perf_counter()
                try:
                    status, kind, data = self._answer()
                finally:
                    server._served(time.perf_counter() - started)
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self) -> tuple[int, str, bytes]:
                if not self.path.endswith("/chat/completions"):
                    return 404, "application/json", b'{"error": {"message": "only /v1/chat/completions"}}'
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                except json.JSONDecodeError:
                    body = None
                if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                    return 400, "application/json", b'{"error": {"message": "a JSON object with messages"}}'
                model, text = str(body.get("model", "instant")), instant_reply(body["messages"])
                if body.get("stream"):
                    return 200, "text/event-stream", _stream(text, model)
                return 200, "application/json", json.dumps(_completion(text, model)).encode()

        return Handler


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "instant", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _stream(text: str, model: str) -> bytes:
    def chunk(delta: dict[str, str], finish: str | None) -> str:
        payload = {"id": "instant", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(payload)}\n\n"

    return (chunk({"role": "assistant", "content": text}, None) + chunk({}, "stop") + "data: [DONE]\n\n").encode()
