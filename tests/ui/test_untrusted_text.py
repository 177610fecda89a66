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

from claims.models import Claim, Evidence, Paper, Proposal
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


def seed_hostile(store, port: int) -> None:  # type: ignore[no-untyped-def]
    """A paper with a hostile title as evidence of C1, behind a pending proposal."""
    with store.write() as s:
        c1 = s.query(Claim).filter_by(key="C1").one()
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
        for token in ("![", "<img", "<script", "](http", "<b>bold"):
            assert token not in shown, (page, token)


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
            for url in (f"{base}/review", f"{base}/claim?claim=C1"):
                page.goto(url)
                expect(page.get_by_text("Sharpening revisited", exact=False).first).to_be_visible()
                expect(page.get_by_text("<b>bold</b>", exact=False).first).to_be_visible()
                page.wait_for_timeout(1500)
                assert page.locator("img[src*='127.0.0.1']").count() == 0
                assert page.locator(f"a[href*='127.0.0.1:{pixels.server_address[1]}']").count() == 0
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        pixels.shutdown()
    assert pixels.hits == []


def test_app_on_a_foreign_database_says_so(home) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "claims.db").write_text("not a database at all\n" * 50)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("not a claims database" in e.value for e in at.error)
