"""Forward citations from the Semantic Scholar Graph API: the papers that cite a paper.

`GET {s2_url}/paper/arXiv:{id}/citations?fields=...&offset=&limit=` pages through the
citing papers (`data[].citingPaper` with `paperId`, `externalIds` (ArXiv, DOI),
`title`, `abstract`, `publicationDate`, `url`; `next` is the next offset, absent at the
end). Written on httpx (already a dependency) rather than the `semanticscholar`
package: that package sets a base URL and a timeout but retries 429 on its own
exponential schedule without reading Retry-After and keeps no process-wide pacing.

Here: one process-wide lock holds requests at least `s2_delay_seconds` apart (the
published limit with a key is 1 request per second); every request has a timeout;
429 is retried after its Retry-After (capped at 120 s), 5xx, timeouts, connection
errors and malformed JSON with backoff (delay x 2^attempt); a 404 means Semantic
Scholar does not know the paper (no citations); what still fails becomes
`SourceUnavailable`. Each request is logged (`requests`: method, path, status, seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from agent.retries import GaveUp, RateLimit, Retryable, retry_after, retrying
from claims.errors import SourceUnavailable
from claims.papers import PaperRecord, split_arxiv_id
from claims.redaction import HIDDEN, hide_secrets
from claims.settings import Settings

FIELDS = "paperId,externalIds,title,abstract,publicationDate,url"
PAGE = 100  # citations per request (the API allows up to 1,000; smaller pages fail cheaper)
S2_RATE_LIMIT = RateLimit()  # every Semantic Scholar client of the process queues here


@dataclass(frozen=True)
class CitingPaper:
    """A paper that cites `cited` (an arXiv id), as Semantic Scholar describes it."""

    cited: str
    s2_id: str
    title: str
    abstract: str = ""
    published: dt.date | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    url: str | None = None

    @property
    def provenance(self) -> str:
        return f"cites arXiv:{self.cited}"

    @property
    def link(self) -> str:
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url or f"https://www.semanticscholar.org/paper/{self.s2_id}"

    def to_record(self) -> PaperRecord | None:
        """As a candidate paper for the arXiv pool (None without an arXiv id)."""
        if not self.arxiv_id:
            return None
        return PaperRecord(arxiv_id=self.arxiv_id, title=self.title, summary=self.abstract, published=self.published)


@dataclass(frozen=True)
class RequestLog:
    method: str
    path: str
    status: int | str  # HTTP status, or what went wrong ("timeout", "connection", "malformed")
    seconds: float

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} ({self.seconds:.2f} s)"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_citations(body: Any, cited: str) -> tuple[list[CitingPaper], int | None]:
    """One page of the citations endpoint -> (citing papers, next offset or None); raises ValueError if malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        raise ValueError("expected an object with a 'data' list")
    out = []
    for item in body.get("data") or []:
        paper = item.get("citingPaper") if isinstance(item, dict) else None
        if not isinstance(paper, dict) or not paper.get("paperId") or not paper.get("title"):
            continue  # S2 returns stubs without ids or titles for some citing works
        ext = paper.get("externalIds") or {}
        arxiv_id = split_arxiv_id(str(ext["ArXiv"]))[0] if ext.get("ArXiv") else None
        out.append(CitingPaper(cited=cited, s2_id=str(paper["paperId"]), title=" ".join(str(paper["title"]).split()),
                               abstract=" ".join(str(paper.get("abstract") or "").split()),
                               published=_date(paper.get("publicationDate")), arxiv_id=arxiv_id,
                               doi=str(ext["DOI"]) if ext.get("DOI") else None, url=paper.get("url")))
    nxt = body.get("next")
    return out, (int(nxt) if isinstance(nxt, int) else None)


@dataclass
class S2Client:
    """The Graph API client: paged citations, paced, retried, logged."""

    url: str
    api_key: str | None = None
    delay_seconds: float = 1.0
    timeout_seconds: float = 30.0
    retries: int = 4
    transport: httpx.BaseTransport | None = None
    requests: list[RequestLog] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> S2Client:
        key = settings.s2_api_key.get_secret_value() if settings.s2_api_key else None
        return cls(settings.s2_url.rstrip("/"), key or None, settings.s2_delay_seconds, settings.s2_timeout_seconds,
                   settings.s2_retries)

    def citations(self, arxiv_id: str, since: dt.date | None = None, limit: int = 1000) -> list[CitingPaper]:
        """Papers citing arXiv:`arxiv_id` (published on or after `since` when given; unknown dates kept)."""
        found: list[CitingPaper] = []
        offset: int | None = 0
        with httpx.Client(base_url=self.url, timeout=self.timeout_seconds, transport=self.transport,
                          headers={"x-api-key": self.api_key} if self.api_key else {}) as http:
            while offset is not None and len(found) < limit:
                body = self._get(http, f"/paper/arXiv:{arxiv_id}/citations",
                                 {"fields": FIELDS, "offset": offset, "limit": min(PAGE, limit - len(found))})
                if body is None:
                    break
                page, offset = parse_citations(body, arxiv_id)
                found += page
        return [p for p in found if since is None or p.published is None or p.published >= since][:limit]

    def _get(self, http: httpx.Client, path: str, params: dict[str, Any]) -> Any:
        """One GET with pacing and retries; the JSON body, or None for a 404."""
        try:
            return retrying(lambda: self._attempt(http, path, params), self.retries,
                            wait=lambda n, exc: exc.retry_after if exc.retry_after is not None else self.delay_seconds * 2**n)
        except GaveUp as exc:
            last = str(exc.last)
        if self.api_key:
            last = last.replace(self.api_key, HIDDEN)
        raise SourceUnavailable(f"Semantic Scholar failed after {self.retries + 1} attempt(s): {hide_secrets(last)}")

    def _attempt(self, http: httpx.Client, path: str, params: dict[str, Any]) -> Any:
        with S2_RATE_LIMIT.slot(self.delay_seconds):
            t = time.monotonic()
            try:
                resp = http.get(path, params=params)
            except httpx.TimeoutException as exc:
                self._log(path, "timeout", t)
                raise Retryable(f"timeout after {self.timeout_seconds:g} s") from exc
            except httpx.TransportError as exc:
                self._log(path, "connection", t)
                raise Retryable(f"connection error: {type(exc).__name__}") from exc
            self._log(path, resp.status_code, t)
        if resp.status_code == 404:
            return None
        if resp.status_code == 429:
            raise Retryable("429 Too Many Requests", retry_after(resp.headers.get("Retry-After")))
        if resp.status_code >= 500:
            raise Retryable(f"HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise SourceUnavailable(f"Semantic Scholar answered HTTP {resp.status_code} for {path}")
        try:
            body = resp.json()
            parse_citations(body, "")
        except (json.JSONDecodeError, ValueError) as exc:
            self.requests[-1] = RequestLog("GET", self.requests[-1].path, "malformed", self.requests[-1].seconds)
            raise Retryable(f"malformed JSON: {exc}") from exc
        return body

    def _log(self, path: str, status: int | str, started: float) -> None:
        self.requests.append(RequestLog("GET", path, status, time.monotonic() - started))


@dataclass
class CitationFetch:
    """What one run read from Semantic Scholar."""

    papers: list[CitingPaper] = field(default_factory=list)
    requests: list[RequestLog] = field(default_factory=list)
    error: str | None = None


def fetch_citing(settings: Settings, arxiv_ids: list[str], since: dt.date | None,
                 say: Callable[[str], None] | None = None, client: S2Client | None = None) -> CitationFetch:
    """Citing papers of each id since `since`, deduplicated per (citing, cited); stops at the first outage."""
    say = say or (lambda _m: None)
    client = client or S2Client.from_settings(settings)
    out = CitationFetch()
    seen: set[tuple[str, str]] = set()
    for aid in sorted(set(arxiv_ids)):
        try:
            page = client.citations(aid, since=since, limit=settings.s2_max_citations)
        except SourceUnavailable as exc:
            out.error = str(exc)
            say(f"citations: Semantic Scholar unavailable ({exc}); going on without forward citations")
            break
        new = [p for p in page if (p.s2_id, p.cited) not in seen]
        seen.update((p.s2_id, p.cited) for p in new)
        out.papers += new
        say(f"citations: {len(new)} paper(s) cite arXiv:{aid}" + (f" since {since}" if since else ""))
    out.requests = list(client.requests)
    return out
