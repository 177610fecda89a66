"""A loopback OpenAI-compatible chat-completions server with scripted answers.

Speaks the same protocol as `vllm serve` / OpenAI for what the judge uses:
`GET /v1/models` and `POST /v1/chat/completions` (JSON body, JSON answer). Each
request is recorded (`server.requests`), so tests can check the prompt itself.

Answers come from `server.script` (a list consumed in order), then from
`server.responder(request) -> Reply` (the default answers "supports" quoting the
abstract's first sentence). A `Reply` can carry JSON content, raw (schema-breaking)
content, an HTTP error status, and a delay (slow answers, timeouts).

Usable as a script for benchmarks and subprocess tests:
`python tests/agent/openai_server.py --port 0 --delay 0.5` prints the base URL.
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

PAPER_RE = re.compile(r"<paper>(.*?)</paper>", re.S)
ABSTRACT_RE = re.compile(r"Abstract:\s*(.*)", re.S)


@dataclass
class Reply:
    """One scripted answer."""

    content: dict[str, Any] | str | None = None  # dict -> JSON text; str -> sent as is
    status: int = 200
    delay: float = 0.0


def paper_text(request: dict[str, Any]) -> str:
    """The delimited paper block of the last user message ("" if none)."""
    for message in reversed(request.get("messages", [])):
        if message.get("role") == "user":
            match = PAPER_RE.search(str(message.get("content", "")))
            return match.group(1) if match else ""
    return ""


def abstract_of(request: dict[str, Any]) -> str:
    match = ABSTRACT_RE.search(paper_text(request))
    return match.group(1).strip() if match else ""


def first_sentence(text: str) -> str:
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    return parts[0] if parts else ""


def answer(stance: str = "supports", confidence: float = 0.8, quote: str = "") -> dict[str, Any]:
    return {
        "stance": stance,
        "confidence": confidence,
        "conditions": "small models, math tasks",
        "rationale": f"The abstract {stance} the claim.",
        "quote": quote,
    }


def default_responder(request: dict[str, Any]) -> Reply:
    """"supports" with confidence 0.8, quoting the abstract's first sentence."""
    return Reply(answer("supports", 0.8, first_sentence(abstract_of(request))))


@dataclass
class OpenAIServer:
    """The server, run in a daemon thread on 127.0.0.1; `base_url` ends in /v1."""

    script: list[Reply] = field(default_factory=list)
    responder: Callable[[dict[str, Any]], Reply] = default_responder
    delay: float = 0.0  # added to every chat answer
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.script:
                return self.script.pop(0)
        return self.responder(request)

    def start(self, port: int = 0) -> OpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to do

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake-judge", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                reply = server.next_reply(request)
                time.sleep(server.delay + reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": f"scripted {reply.status}"}})
                    return
                content = reply.content
                text = json.dumps(content) if isinstance(content, dict) else (content or "")
                self._send(200, completion(request.get("model", "fake-judge"), text, request.get("messages")))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def completion(model: str, text: str, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A chat completion; `usage` counts whitespace-separated words as tokens (prompt: the messages)."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages or [])
    answer = len(text.split())
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": answer, "total_tokens": prompt + answer},
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    srv = OpenAIServer(delay=args.delay).start(args.port)
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
