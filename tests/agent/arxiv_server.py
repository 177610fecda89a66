"""A loopback arXiv API: serves Atom feeds in arXiv's format from a list of papers.

Understands what our client sends: `search_query` with `cat:`, `all:"..."` terms and a
`submittedDate:[A TO B]` window, `id_list`, `start`, `max_results`, `sortBy`. Faults
can be queued, one per request, in order: "503", "malformed", "empty" (arXiv's
empty-page glitch), "slow" (answers after `slow_seconds`), "hang" (answers only at
shutdown). Papers are dicts shaped like corpus lines (id may carry a version; an optional
`comment` is served as `arxiv:comment`, e.g. a withdrawal notice).

    with ArxivServer(papers, faults=["503"]) as server:
        settings = Settings(arxiv_url=server.url, arxiv_delay_seconds=0.01)
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
    "  <id>https://arxiv.org/api/loopback</id>\n"
    "  <title>arXiv Query: loopback</title>\n"
    "  <updated>2026-01-01T00:00:00Z</updated>\n"
)


def _stamp(text: str) -> str:
    """'2025-04' / '2025-04-10' -> an Atom timestamp."""
    parts = (text + "-01-01").split("-")[:3]
    return f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}T12:00:00Z"


def entry_xml(paper: dict[str, Any]) -> str:
    pid = paper["id"] if re.search(r"v\d+$", paper["id"]) else f"{paper['id']}v{paper.get('version', 1)}"
    published = _stamp(paper["published"])
    updated = _stamp(paper.get("updated") or paper["published"])
    cats = paper.get("categories") or ["cs.LG"]
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{pid}</id>",
        f"    <updated>{updated}</updated>",
        f"    <published>{published}</published>",
        f"    <title>{escape(paper['title'])}</title>",
        f"    <summary>  {escape(paper.get('summary', ''))}\n    </summary>",
        *([f"    <arxiv:comment>{escape(paper['comment'])}</arxiv:comment>"] if paper.get("comment") else []),
        *[f"    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in paper.get("authors", [])],
        f'    <link href="http://arxiv.org/abs/{pid}" rel="alternate" type="text/html"/>',
        f'    <link title="pdf" href="http://arxiv.org/pdf/{pid}" rel="related" type="application/pdf"/>',
        f'    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term={quoteattr(cats[0])} '
        'scheme="http://arxiv.org/schemas/atom"/>',
        *[f'    <category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in cats],
        "  </entry>",
    ]
    return "\n".join(lines)


def feed_xml(entries: list[dict[str, Any]], total: int, start: int) -> str:
    header = (
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage>{len(entries)}</opensearch:itemsPerPage>\n"
    )
    return HEAD + header + "\n".join(entry_xml(p) for p in entries) + "\n</feed>\n"


def _day(paper: dict[str, Any]) -> str:
    return _stamp(paper["published"])[:10].replace("-", "")


def select(papers: list[dict[str, Any]], params: dict[str, str]) -> list[dict[str, Any]]:
    """The papers a query matches, in the order asked for."""
    ids = [i for i in params.get("id_list", "").split(",") if i]
    if ids:
        bare = {re.sub(r"v\d+$", "", i) for i in ids}
        return [p for p in papers if re.sub(r"v\d+$", "", p["id"]) in bare]
    query = params.get("search_query", "")
    cats = set(re.findall(r"cat:([\w.\-]+)", query))
    terms = [t.lower() for t in re.findall(r'all:"([^"]+)"', query)]
    window = re.search(r"submittedDate:\[(\d{8})\d{4} TO (\d{8})\d{4}\]", query)
    out = []
    for p in papers:
        if cats and not cats.intersection(p.get("categories") or ["cs.LG"]):
            continue
        if window and not window[1] <= _day(p) <= window[2]:
            continue
        text = (p["title"] + " " + p.get("summary", "")).lower()
        hits = sum(t in text for t in terms)
        if terms and not hits:
            continue
        out.append((hits, p))
    if params.get("sortBy") == "submittedDate":
        out.sort(key=lambda hp: _day(hp[1]), reverse=params.get("sortOrder") == "descending")
    else:
        out.sort(key=lambda hp: -hp[0])
    return [p for _, p in out]


class ArxivServer:
    """A threaded HTTP server on 127.0.0.1 speaking the arXiv query API."""

    def __init__(self, papers: list[dict[str, Any]], faults: list[str] | None = None, slow_seconds: float = 1.0):
        self.papers = papers
        self.faults: deque[str] = deque(faults or [])
        self.slow_seconds = slow_seconds
        self.requests: list[dict[str, Any]] = []  # {"params": ..., "at": monotonic, "fault": ...}
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server._answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/query"

    def start(self) -> ArxivServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ArxivServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(handler.path)
        params = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        fault = self.faults.popleft() if self.faults else None
        self.requests.append({"params": params, "at": time.monotonic(), "fault": fault})
        if fault == "hang":
            self._stop.wait(60)
            return
        if fault == "slow":
            self._stop.wait(self.slow_seconds)
        if fault == "503":
            self._send(handler, 503, b"Service Unavailable", "text/plain")
            return
        start, size = int(params.get("start", 0)), int(params.get("max_results", 10))
        matched = select(self.papers, params)
        if fault == "malformed":
            body = feed_xml(matched[start : start + size], len(matched), start)
            self._send(handler, 200, body[: len(body) // 2].encode(), "application/atom+xml")
            return
        page = [] if fault == "empty" else matched[start : start + size]
        self._send(handler, 200, feed_xml(page, len(matched), start).encode(), "application/atom+xml")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): fine
