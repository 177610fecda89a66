"""A loopback Semantic Scholar Graph API: `/paper/arXiv:{id}/citations` with paging.

Serves `citations[arxiv_id]` (dicts shaped like `citingPaper`) in pages of `limit` from
`offset`, with `next` while more remain; an unknown id is a 404. Faults are queued one
per request, in order: "429" (with `Retry-After: retry_after`), "503", "malformed"
(not JSON), "hang" (answers after `hang_seconds`). Every request is recorded in `log`
as (monotonic time, path, query, x-api-key header).

    with S2Server({"2504.07912": [paper, ...]}, faults=["429"]) as server:
        settings = Settings(s2_url=server.url, s2_delay_seconds=0.01)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


class S2Server:
    def __init__(self, citations: dict[str, list[dict[str, Any]]], faults: list[str] | None = None,
                 retry_after: float = 1.0, hang_seconds: float = 2.0):
        self.citations = citations
        self.faults: deque[str] = deque(faults or [])
        self.retry_after, self.hang_seconds = retry_after, hang_seconds
        self.log: list[tuple[float, str, dict[str, str], str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/graph/v1"

    def __enter__(self) -> S2Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.log.append((time.monotonic(), unquote(parsed.path), query, h.headers.get("x-api-key")))
        fault = self.faults.popleft() if self.faults else None
        if fault == "429":
            return self._send(h, 429, b'{"message": "Too Many Requests"}', {"Retry-After": f"{self.retry_after:g}"})
        if fault == "503":
            return self._send(h, 503, b"Service Unavailable")
        if fault == "malformed":
            return self._send(h, 200, b'{"data": [ {"citingPaper": ')
        if fault == "hang":
            time.sleep(self.hang_seconds)
        path = unquote(parsed.path)
        prefix, suffix = "/graph/v1/paper/arXiv:", "/citations"
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return self._send(h, 404, b'{"error": "not found"}')
        arxiv_id = path[len(prefix) : -len(suffix)]
        if arxiv_id not in self.citations:
            return self._send(h, 404, b'{"error": "Paper not found"}')
        rows = self.citations[arxiv_id]
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
        body: dict[str, Any] = {"offset": offset, "data": [{"citingPaper": p} for p in rows[offset : offset + limit]]}
        if offset + limit < len(rows):
            body["next"] = offset + limit
        self._send(h, 200, json.dumps(body).encode())

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


def citing(n: int, arxiv: bool = True, published: str = "2026-02-01", **extra: Any) -> dict[str, Any]:
    """A `citingPaper` object as the API returns it."""
    ext: dict[str, Any] = {"ArXiv": f"2602.{10000 + n}"} if arxiv else {"DOI": f"10.1000/s2.{n}"}
    return {"paperId": f"s2p{n:04d}", "externalIds": ext, "title": f"Citing paper {n}",
            "abstract": f"Paper {n} revisits RL post-training.", "publicationDate": published,
            "url": f"https://www.semanticscholar.org/paper/s2p{n:04d}", **extra}
