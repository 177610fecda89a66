"""The review app in a real browser: `claims ui` on loopback, driven in Debian's headless Chromium.

Saves screenshots of the overview, the review queue (the diff) and a claim page (the
plots) under test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from claims.models import Claim, ClaimRevision, Proposal

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"claims ui exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("the review app did not answer /_stcore/health")


@pytest.fixture
def server(review_store, home):
    store, ids = review_store
    port = free_port()
    claims_bin = shutil.which("claims", path=str(Path(sys.executable).parent)) or "claims"
    env = {**os.environ, "CLAIMS_HOME": str(home)}
    proc = subprocess.Popen([claims_bin, "ui", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, store, ids
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_approve_in_the_browser(server):
    from playwright.sync_api import expect, sync_playwright

    base, store, ids = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        page.set_default_timeout(30_000)

        page.goto(base)
        expect(page.get_by_role("heading", name="Claims")).to_be_visible()
        page.get_by_role("link", name="Review queue").click()
        expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
        name = page.get_by_label("Your name (to approve or reject)")
        name.fill("erin")
        name.press("Enter")
        approve = page.get_by_role("button", name="Approve", exact=True).first
        expect(approve).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "ui-review-queue.png"))
        approve.click()
        expect(page.get_by_text(f"Approved proposal #{ids['status']}")).to_be_visible()

        page.get_by_role("link", name="Overview").click()
        expect(page.get_by_role("heading", name="Claims")).to_be_visible()
        expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
        page.wait_for_timeout(1500)  # let the grid paint its cells
        page.screenshot(path=str(ARTIFACTS / "ui-overview.png"))

        page.goto(f"{base}/claim?claim=C1")
        expect(page.get_by_text("Revision history")).to_be_visible()
        expect(page.locator(".vega-embed")).to_have_count(4)
        page.wait_for_timeout(1500)
        page.set_viewport_size({"width": 1500, "height": 2600})
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "ui-claim.png"))
        browser.close()

    with store.read() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C1"))
        last = s.scalar(select(ClaimRevision).where(ClaimRevision.claim_id == claim.id)
                        .order_by(ClaimRevision.revision.desc()))
        assert (claim.status, last.approved_by, last.proposal_id) == ("contested", "erin", ids["status"])
        assert s.get(Proposal, ids["status"]).state == "approved"
