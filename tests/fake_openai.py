"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol.

It stands in for a remote LLM (vLLM, llama.cpp server, DeepSeek …): ``POST /v1/chat/completions``
answers with one JSON completion, or with ``text/event-stream`` chunks (``data: {...}`` …
``data: [DONE]``) when the request says ``"stream": true``. Every request body is recorded.

``reply`` is a fixed text or a function of the request's prompt (all messages joined). Two bad
outputs a small local model really gave (``docs/models.md`` of the shared material) are provided:
``MARKERS_ONLY`` and ``copy_of_passage(3, "[4]–[8]")``, passage 3's text cited under other numbers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKERS_ONLY = "[1] [2][3]\n[4] [5]"


def copy_of_passage(n: int, cited: str) -> Callable[[str], str]:
    """A reply that copies the text of passage ``n`` of the prompt and cites it as ``cited``."""

    def reply(prompt: str) -> str:
        block = re.search(rf'<passage n="{n}">.*?"""\n(.*?)\n"""', prompt, re.S)
        assert block, f"the prompt has no passage {n}"
        return block.group(1).strip() + cited

    return reply


@dataclass
class FakeOpenAI:
    reply: str | Callable[[str], str] = "好的。"
    status: int = 200  # a non-200 status makes every completion fail with that status
    piece_chars: int = 4  # characters per streamed chunk
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": f"no route {self.path}"}})
                if fake.status != 200:
                    return self._json(
                        fake.status,
                        {"error": {"message": "model overloaded", "type": "server_error"}},
                    )
                prompt = "\n".join(m.get("content", "") for m in body.get("messages", []))
                text = fake.reply(prompt) if callable(fake.reply) else fake.reply
                if body.get("stream"):
                    return self._stream(body.get("model", "fake"), text)
                return self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [
                    text[i : i + fake.piece_chars] for i in range(0, len(text), fake.piece_chars)
                ]
                deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
                for i, delta in enumerate(deltas + [{}]):
                    chunk = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "delta": delta,
                                "finish_reason": "stop" if i == len(deltas) else None,
                            }
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def prompt(self, i: int = -1) -> str:
        """The text of all messages of request ``i``, joined."""
        return "\n".join(m["content"] for m in self.requests[i]["body"]["messages"])
