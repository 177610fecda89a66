"""Paper and LLM text in the review app is plain text: no image, link or tag it carries takes effect."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from claims.models import Claim, ClaimRevision, Evidence, Paper, Proposal
from ui.plaintext import arxiv_link, plain

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")


class PixelServer(http.server.ThreadingHTTPServer):
    """A loopback server that records every path a browser asks it for."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def hostile_title(port: int) -> str:
    return (f"Sharpening revisited ![pixel](http://127.0.0.1:{port}/md.png) "
            f"<img src='http://127.0.0.1:{port}/tag.png'> [click](http://127.0.0.1:{port}/link) <b>bold</b>")


def hostile_text(port: int) -> str:
    """An edited claim text carrying every kind of link a Markdown renderer would make live."""
    return (f"RL sharpens [mail](mailto:mallory@example.org) ![diff](http://127.0.0.1:{port}/diff.png) "
            f"[site](http://127.0.0.1:{port}/site) http://127.0.0.1:{port}/auto www.example.org "
            f"mallory@example.org <a href='http://127.0.0.1:{port}/a'>a</a>")


def seed_hostile(store, port: int) -> None:  # type: ignore[no-untyped-def]
    """A paper with a hostile title as evidence of C1, behind a pending proposal; a hostile
    text edit of C2 pending (the queue's word diff) and one approved (the history's diff)."""
    with store.write() as s:
        c2 = s.query(Claim).filter_by(key="C2").one()
        s.add(Proposal(claim_id=c2.id, inquiry_id=c2.inquiry_id, kind="text", proposed_text=hostile_text(port),
                       rationale="wording", fingerprint="hostile-text"))
        c1 = s.query(Claim).filter_by(key="C1").one()
        s.add(ClaimRevision(claim_id=c1.id, revision=2, text=c1.text + " " + hostile_text(port), as_of=c1.as_of,
                            status=c1.status, approved_by=f"![who](http://127.0.0.1:{port}/who.png)"))
        c1.text, c1.revision = c1.text + " " + hostile_text(port), 2
        s.add(Paper(arxiv_id="2602.00009", title=hostile_title(port)))
        s.flush()
        ev = Evidence(claim_id=c1.id, paper_id="2602.00009", relevance=0.99, rank=1, method="dense",
                      stance="contradicts", confidence=0.9, rationale=f"See ![r](http://127.0.0.1:{port}/why.png)",
                      quote="A quote <script>alert(1)</script>")
        s.add(ev)
        s.flush()
        s.add(Proposal(claim_id=c1.id, inquiry_id=c1.inquiry_id, kind="status", proposed_status="contested",
                       rationale=f"Because ![p](http://127.0.0.1:{port}/proposal.png)", fingerprint="hostile-1",
                       evidence=[ev]))


def test_plain_leaves_no_markdown_or_html_syntax() -> None:
    out = plain("![x](http://e.example/p.png) <img src=x> [a](b) **c** $x$ `d`")
    for token in ("![", "](", "<img", "**", "$", "`", "<", ">", "["):
        assert token not in out
    assert "&#33;&#91;x&#93;" in out  # the characters are kept, as references
    assert arxiv_link("2601.00001") == ("<a href='https://arxiv.org/abs/2601.00001' target='_blank' "
                                        "rel='noopener noreferrer'>2601&#46;00001</a>")
    assert arxiv_link("javascript:alert(1)") == plain("javascript:alert(1)")  # no link for a bad id


def test_app_markdown_carries_no_live_markup(bundled_store) -> None:
    seed_hostile(bundled_store, 9)
    for page, params in (("review", {}), ("claim", {"claim": "C1"})):
        at = AppTest.from_file(APP, default_timeout=30)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
        shown = "\n".join(m.value for m in at.markdown)
        assert "2602" in shown, page
        for token in ("![", "<img", "<script", "](http", "<b>bold", "](mailto", "mailto:", "http://", "www.",
                      "<a href='http://127"):
            assert token not in shown, (page, token)


def test_a_decider_name_in_the_already_decided_message_is_plain_text(bundled_store) -> None:
    import html

    from claims import review

    seed_hostile(bundled_store, 9)
    with bundled_store.read() as s:
        pid = s.query(Proposal).filter_by(fingerprint="hostile-1").one().id
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="reviewer_name_input").input("alice").run()
    at.switch_page("views/review.py").run()
    hostile = "![n](http://127.0.0.1:9/name.png) [x](mailto:m@example.org)"
    with bundled_store.write() as s:  # another reviewer, with a hostile name, decides first
        review.reject(s, pid, hostile, "no")
    next(b for b in at.button if b.key == f"p{pid}_approve").click().run()
    message = at.main.warning[0].value
    assert "](" not in message and "mailto:" not in message and "![" not in message
    assert hostile in html.unescape(message).replace("\u200b", "")  # shown as written


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_browser_fetches_nothing_a_title_names(bundled_store, home) -> None:
    from playwright.sync_api import expect, sync_playwright

    pixels = PixelServer()
    threading.Thread(target=pixels.serve_forever, daemon=True).start()
    seed_hostile(bundled_store, pixels.server_address[1])
    with PixelServer() as probe:
        port = probe.server_address[1]  # a free port for the app
    claims_bin = shutil.which("claims", path=str(Path(sys.executable).parent)) or "claims"
    proc = subprocess.Popen([claims_bin, "ui", "--host", "127.0.0.1", "--port", str(port)],
                            env={**os.environ, "CLAIMS_HOME": str(home)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from tests.ui.test_browser import CHROMIUM_ARGS, wait_healthy
    except ImportError:  # --import-mode=importlib: load the sibling by path
        import importlib.util

        spec = importlib.util.spec_from_file_location("_tb", Path(__file__).with_name("test_browser.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        CHROMIUM_ARGS, wait_healthy = mod.CHROMIUM_ARGS, mod.wait_healthy
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(30_000)
            elsewhere: list[str] = []  # requests to any host but the app's own
            page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:")) else elsewhere.append(r.url))
            for url in (f"{base}/review", f"{base}/claim?claim=C1", f"{base}/claim?claim=C2"):
                page.goto(url)
                if "C2" not in url:
                    expect(page.get_by_text("Sharpening revisited", exact=False).first).to_be_visible()
                    expect(page.get_by_text("<b>bold</b>", exact=False).first).to_be_visible()
                page.wait_for_timeout(1500)
                assert page.locator("img[src*='127.0.0.1']").count() == 0
                assert page.locator(f"a[href*='127.0.0.1:{pixels.server_address[1]}']").count() == 0
                links = [h for h in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                         if not h.startswith((base, "https://arxiv.org/abs/"))]
                assert links == [], (url, links)  # no clickable link from stored text
                if url.endswith("/review"):  # the hostile edit's word diff is shown, inert
                    expect(page.get_by_text("mailto", exact=False).first).to_be_visible()
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        pixels.shutdown()
    assert pixels.hits == []
    assert elsewhere == []


def test_app_on_a_foreign_database_says_so(home) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "claims.db").write_text("not a database at all\n" * 50)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("not a claims database" in e.value for e in at.error)
