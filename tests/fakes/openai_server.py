"""A small OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, scripted answers, faults on demand."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a text, or a fault (`status`, `delay`, `malformed`, `cut_stream`)."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    malformed: bool = False
    cut_stream: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class FakeOpenAIServer:
    """`enqueue` replies; `history` keeps every request body received. Unscripted requests get `default`."""

    __test__ = False

    def __init__(self, default: str = "Scripted reply.", responder: Any = None) -> None:
        """`responder(request_body) -> text`, when given, answers unscripted requests instead of `default`."""
        self.default = default
        self.responder = responder
        self.queue: deque[Reply] = deque()
        self.history: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}/v1"

    def enqueue(self, *replies: Reply | str) -> None:
        self.queue.extend(r if isinstance(r, Reply) else Reply(text=r) for r in replies)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        if self.queue:
            return self.queue.popleft()
        return Reply(text=self.responder(body) if self.responder else self.default)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                fake.history.append(body)
                reply = fake._next(body)
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "scripted failure"}}, reply.headers)
                elif reply.malformed:
                    self._send_raw(200, b"{not json", "application/json")
                elif body.get("stream"):
                    self._stream(reply, body.get("model", "fake"))
                else:
                    self._send(200, _completion(reply.text, body.get("model", "fake")))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

            def _send_raw(self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, model: str) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                pieces = reply.text.split(" ")
                for index, piece in enumerate(pieces):
                    if reply.cut_stream and index == len(pieces) // 2:
                        self.wfile.write(b"data: {broken")
                        self.wfile.flush()
                        return
                    delta = piece if index == 0 else " " + piece
                    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                final = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "c1", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
