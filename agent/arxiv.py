"""The arXiv API client: the `arxiv` package, with what it lacks added.

The package (4.0.x) pages and parses well but sets no HTTP timeout (a server that
never answers hangs it for ever), retries without backoff, and keeps its rate-limit
state per client without a lock. `ArxivClient` keeps its paging and Atom parsing and
replaces the fetch: one process-wide lock holds every request at least
`arxiv_delay_seconds` apart (API terms: 3 s, one connection), each request has a
timeout, and 5xx/429 answers, timeouts, connection errors, malformed feeds and
arXiv's "empty page" glitch are retried with exponential backoff
(delay x 2^attempt). What still fails becomes `SourceUnavailable`.
"""

from __future__ import annotations

import datetime as dt
import re

import arxiv
import requests
from arxiv import _feed
from lxml import etree

from agent.retries import GaveUp, RateLimit, Retryable, retry_after, retrying
from claims.errors import SourceUnavailable
from claims.papers import PaperRecord, split_arxiv_id
from claims.settings import Settings

MAX_PAGE = 2000  # arXiv serves at most 2,000 results per request
ID_BATCH = 100  # ids per id_list request (keeps the URL short)
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_STOPWORDS = frozenset(
    """a an and are as at be but by can could does do for from has have how if in into is it its
    not of on only or rather than that the their them then these this those through to under via
    was were what when where whether which while who why will with without within already mostly
    even instead same single one two more most much many across over other such also just very""".split()
)


RATE_LIMIT = RateLimit()  # shared by every client of the process: parallel workers queue here


class ArxivClient(arxiv.Client):
    """`arxiv.Client` pointed at `url`, with timeouts, backoff and the shared rate limit."""

    def __init__(
        self,
        url: str,
        delay_seconds: float = 3.0,
        timeout_seconds: float = 30.0,
        retries: int = 4,
        page_size: int = MAX_PAGE,
        rate_limit: RateLimit = RATE_LIMIT,
    ):
        super().__init__(page_size=min(page_size, MAX_PAGE), delay_seconds=delay_seconds, num_retries=retries)
        self.query_url_format = url + ("&" if "?" in url else "?") + "{}"
        self.timeout_seconds = timeout_seconds
        self.rate_limit = rate_limit
        self.requests = 0
        self.failures: list[str] = []  # failed attempts that a retry recovered from, or not

    def _format_url(self, search: arxiv.Search, start: int, page_size: int) -> str:
        if search.max_results:  # ask for no more than the search wants
            page_size = max(1, min(page_size, search.max_results - start))
        return super()._format_url(search, start, page_size)

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> _feed.ParsedFeed:
        try:
            return retrying(lambda: self._fetch(url, first_page), self.num_retries,
                            wait=lambda n, exc: max(self.delay_seconds * 2 ** (n + 1), exc.retry_after or 0),
                            failed=lambda exc: self.failures.append(str(exc)))
        except GaveUp as exc:
            raise SourceUnavailable(f"arXiv ({self.query_url_format.split('?')[0]}) {exc}") from None

    def _fetch(self, url: str, first_page: bool) -> _feed.ParsedFeed:
        with self.rate_limit.slot(self.delay_seconds):
            self.requests += 1
            try:
                resp = self._session.get(url, headers={"user-agent": arxiv._USER_AGENT}, timeout=self.timeout_seconds)
            except requests.Timeout as exc:
                raise Retryable(f"no answer within {self.timeout_seconds:g}s") from exc
            except requests.RequestException as exc:
                raise Retryable(f"connection failed: {type(exc).__name__}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise Retryable(f"HTTP {resp.status_code}", retry_after(resp.headers.get("Retry-After")))
        if resp.status_code != 200:
            raise SourceUnavailable(f"arXiv refused the query: HTTP {resp.status_code}")
        if not is_atom_feed(resp.content):
            raise Retryable("malformed feed")
        feed = _feed.parse(resp.content)
        if not feed.results and (not first_page or feed.header.total_results > feed.header.start_index):
            raise Retryable("unexpectedly empty page")
        return feed


def is_atom_feed(content: bytes) -> bool:
    """Whether `content` is a well-formed Atom feed (the package's parser recovers silently)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError:
        return False
    return root is not None and root.tag == _ATOM_FEED


def window_clause(start: dt.date | None, end: dt.date | None) -> str:
    """`submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` in GMT, whole days, inclusive."""
    lo = (start or dt.date(1991, 1, 1)).strftime("%Y%m%d") + "0000"
    hi = (end or dt.datetime.now(dt.timezone.utc).date()).strftime("%Y%m%d") + "2359"
    return f"submittedDate:[{lo} TO {hi}]"


def category_query(categories: list[str], start: dt.date | None, end: dt.date | None) -> str:
    cats = " OR ".join(f"cat:{c}" for c in categories)
    return f"({cats}) AND {window_clause(start, end)}"


def keywords(text: str, limit: int = 8) -> list[str]:
    """Salient words of a claim for a targeted query: acronyms first, then long words."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9\-]+", text.replace("*", ""))
    seen: dict[str, str] = {}
    for w in words:
        key = w.lower()
        if key in _STOPWORDS or len(key) < 3 and not w.isupper() or key in seen:
            continue
        seen[key] = w
    ranked = sorted(seen.values(), key=lambda w: (not w.isupper(), -len(w)))
    return ranked[:limit]


def text_query(text: str, start: dt.date | None, end: dt.date | None) -> str:
    terms = " OR ".join(f'all:"{w}"' for w in keywords(text)) or 'all:"language model"'
    return f"({terms}) AND {window_clause(start, end)}"


_WITHDRAWN = re.compile(r"\b(withdrawn|withdraw this paper|retracted)\b", re.I)


def is_withdrawn(comment: str | None, summary: str | None) -> bool:
    """Whether a version is a withdrawal: its comment says so, or it has no content left (pure)."""
    text = " ".join((summary or "").split())
    return bool(_WITHDRAWN.search(comment or "")) or not text or bool(
        _WITHDRAWN.search(text) and len(text) < 300)


def to_record(result: arxiv.Result) -> PaperRecord:
    arxiv_id, version = split_arxiv_id(result.get_short_id())
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=" ".join(result.title.split()),
        summary=" ".join(result.summary.split()),
        published=result.published.date(),
        updated=result.updated.date(),
        authors=[a.name for a in result.authors],
        categories=list(result.categories),
        withdrawn=is_withdrawn(result.comment, result.summary),
    )


class ArxivSource:
    """The PaperSource over the arXiv API (or a mirror at `settings.arxiv_url`)."""

    name = "arxiv"

    def __init__(self, settings: Settings, page_size: int = MAX_PAGE):
        self.client = ArxivClient(
            settings.arxiv_url,
            delay_seconds=settings.arxiv_delay_seconds,
            timeout_seconds=settings.arxiv_timeout_seconds,
            retries=settings.arxiv_retries,
            page_size=page_size,
        )

    @property
    def requests(self) -> int:
        return self.client.requests

    def _run(self, search: arxiv.Search) -> list[PaperRecord]:
        try:
            return [to_record(r) for r in self.client.results(search)]
        except (arxiv.ArxivError, requests.RequestException) as exc:  # not expected: our fetch translates
            raise SourceUnavailable(f"arXiv failed: {exc}") from exc

    def sweep(self, categories: list[str], start: dt.date | None, end: dt.date | None) -> list[PaperRecord]:
        search = arxiv.Search(
            query=category_query(categories, start, end),
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Ascending,  # new arrivals land after the pages already read
        )
        return self._run(search)

    def query(self, text: str, start: dt.date | None, end: dt.date | None, max_results: int) -> list[PaperRecord]:
        # Relevance order here: a capped targeted query wants the best matches, not the newest.
        search = arxiv.Search(query=text_query(text, start, end), max_results=min(max_results, MAX_PAGE))
        return self._run(search)

    def lookup(self, ids: list[str]) -> dict[str, PaperRecord]:
        wanted = sorted({split_arxiv_id(i)[0] for i in ids})
        found: dict[str, PaperRecord] = {}
        for i in range(0, len(wanted), ID_BATCH):
            batch = wanted[i : i + ID_BATCH]
            for rec in self._run(arxiv.Search(id_list=batch, max_results=len(batch))):
                if rec.arxiv_id in batch and rec.title:
                    found[rec.arxiv_id] = rec
        return found
