"""What the API tests share: a knowledge base for the Chatwoot webhook in the tests' own words (the small
triage table of `helpers.triage_kb` with a `platforms.yaml` that names Chatwoot channels and a default
platform of its own), a Chatwoot-shaped HTTP server on 127.0.0.1 that records the calls it gets, a webhook
event writer and a reader of server-sent events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers.triage_kb import TRIAGE_DOCS

# A shop whose Shopee chats reach Chatwoot through an inbox no platform names: they fall to the default.
CHATWOOT_PLATFORMS = """\
default: shopee
platforms:
  livechat: {title: Live chat, chatwoot: ["Channel::WebWidget"]}
  shopee: {title: Shopee, marketplace: true}
  email: {title: Email, chatwoot: ["Channel::Email"]}
"""
CHATWOOT_DOCS = {**TRIAGE_DOCS, "platforms.yaml": CHATWOOT_PLATFORMS}
CANCEL_REPLY = "Dạ anh/chị tự gửi yêu cầu hủy trong mục Đơn mua của ứng dụng ạ."  # the cancel-how-to macro's
WEBHOOK = "/v1/integrations/chatwoot/webhook"


class FakeChatwoot:
    """Records every API call (path, token, JSON body); answers `status` with an empty JSON object."""

    def __init__(self, status: int = 200) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.calls.append((self.path, self.headers.get("api_access_token", ""), body))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoints(self) -> list[str]:
        """The last part of each called path, in order (`messages`, `toggle_status`)."""
        return [path.rsplit("/", 1)[-1] for path, _, _ in self.calls]


@contextmanager
def fake_chatwoot(status: int = 200) -> Iterator[FakeChatwoot]:
    """A fake Chatwoot served in a thread while the block runs."""
    fake = FakeChatwoot(status)
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def chatwoot_event(text: str, channel: str = "Channel::WebWidget", name: str = "Lan") -> dict[str, Any]:
    """An Agent Bot `message_created` payload: `name` writes `text` in conversation 42 of account 7."""
    return {
        "event": "message_created",
        "message_type": "incoming",
        "content": text,
        "conversation": {"id": 42, "channel": channel, "messages": [{"message_type": 0, "content": text}]},
        "account": {"id": 7},
        "sender": {"name": name},
    }


def sse(text: str) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a server-sent event stream whose data is JSON."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events
