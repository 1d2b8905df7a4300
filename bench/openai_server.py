"""One OpenAI-compatible chat server on 127.0.0.1, for the tests and the bench alike: real HTTP, answers from
a script (`enqueue`: texts or faults), else from a `responder` (the bench's answers at once), else a default.

It keeps every request body (`history`) and how long it spent serving (`busy`, so the bench can subtract it).
Headers and body go out in one write with Nagle's algorithm off (a delayed ACK would otherwise hold the body
40 ms, which is not what a real LLM server does), streamed answers included.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from copilot.compose.slots import SLOT

Responder = Callable[[dict[str, Any]], str]
JSON = "application/json"


@dataclass
class Reply:
    """One scripted answer: a text, or a fault (`status`, `delay`, `malformed`, `cut_stream`)."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    malformed: bool = False
    cut_stream: bool = False
    headers: dict[str, str] = field(default_factory=dict)


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


def answer_at_once(body: dict[str, Any]) -> str:
    """The bench's responder: `instant_reply` on the request's messages."""
    return instant_reply(body.get("messages") or [])


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request (a timeout the test provokes) is no error of the server's: it is
    not printed as a traceback; anything else still is."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """`/v1/chat/completions` (plain and streamed) on a free loopback port."""

    __test__ = False

    def __init__(self, default: str = "Scripted reply.", responder: Responder | None = None) -> None:
        """`responder(request_body) -> text`, when given, answers unscripted requests instead of `default`."""
        self.default = default
        self.responder = responder
        self.queue: deque[Reply] = deque()
        self.history: list[dict[str, Any]] = []
        self.calls = 0
        self.busy_seconds = 0.0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def enqueue(self, *replies: Reply | str) -> None:
        self.queue.extend(r if isinstance(r, Reply) else Reply(text=r) for r in replies)

    def busy(self) -> tuple[int, float]:
        """Calls served and seconds spent so far (read before and after a request to get its share)."""
        with self._lock:
            return self.calls, self.busy_seconds

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.history.append(body)
            if self.queue:
                return self.queue.popleft()
        return Reply(text=self.responder(body) if self.responder else self.default)

    def _served(self, seconds: float) -> None:
        with self._lock:
            self.calls += 1
            self.busy_seconds += seconds

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this server (the HTTP server makes an instance per request)."""
        bound = self

        class Handler(_ChatHandler):
            fake = bound

        return Handler


class _Answer(NamedTuple):
    """What the handler writes back, after waiting `delay` seconds."""

    status: int
    content_type: str
    data: bytes
    headers: dict[str, str]
    delay: float


class _ChatHandler(BaseHTTPRequestHandler):
    """`/v1/chat/completions` for one FakeOpenAIServer (`fake`, set by a subclass)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: FakeOpenAIServer

    def log_message(self, *args: object) -> None:
        return

    def do_POST(self) -> None:
        # counted before the answer is written: a client that has read the answer sees the call counted
        started = time.perf_counter()
        try:
            answer = self._answer()
        finally:
            self.fake._served(time.perf_counter() - started)
        time.sleep(answer.delay)
        self.send_response(answer.status)
        self.send_header("content-type", answer.content_type)
        self.send_header("content-length", str(len(answer.data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.data)

    def _answer(self) -> _Answer:
        if not self.path.endswith("/chat/completions"):
            return _Answer(404, JSON, _error("only /v1/chat/completions"), {}, 0.0)
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _Answer(400, JSON, _error("a JSON object with messages"), {}, 0.0)
        return _scripted(self.fake._next(body), body)


def _scripted(reply: Reply, body: dict[str, Any]) -> _Answer:
    """The answer to a well-formed request: the reply's fault, or its text (streamed when asked)."""
    model = str(body.get("model", "fake"))
    if reply.status != 200:
        return _Answer(reply.status, JSON, _error("scripted failure"), reply.headers, reply.delay)
    if reply.malformed:
        return _Answer(200, JSON, b"{not json", {}, reply.delay)
    if body.get("stream"):
        events = _stream(reply.text, model, reply.cut_stream)
        return _Answer(200, "text/event-stream", events, {}, reply.delay)
    return _Answer(200, JSON, json.dumps(_completion(reply.text, model)).encode(), {}, reply.delay)


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message}}).encode()


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "fake", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _stream(text: str, model: str, cut: bool = False) -> bytes:
    """The answer as server-sent events, a word a chunk; `cut` ends it halfway with a malformed event."""
    def chunk(delta: dict[str, str], finish: str | None) -> str:
        payload = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(payload)}\n\n"

    pieces = text.split(" ")
    events = [chunk({"content": piece if i == 0 else " " + piece}, None) for i, piece in enumerate(pieces)]
    if cut:
        return ("".join(events[: len(pieces) // 2]) + "data: {broken").encode()
    return ("".join(events) + chunk({}, "stop") + "data: [DONE]\n\n").encode()
