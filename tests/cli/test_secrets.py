"""Secrets scrubbed at the source: an endpoint that echoes the API key in its 401 never gets it printed or written."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.cli.conftest import claims, clean_env

KEY = "sk-live-Secret123-abcdef"


class _EchoingProvider(BaseHTTPRequestHandler):
    """Answers every request 401 with the key from the Authorization header in the message, as providers do."""

    def _deny(self) -> None:
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = _deny

    def log_message(self, *args: object) -> None:
        pass


def test_a_key_echoed_by_the_endpoint_appears_nowhere(bundled_home: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = clean_env(bundled_home, CLAIMS_LLM_BASE_URL=f"http://127.0.0.1:{server.server_port}/v1",
                    CLAIMS_LLM_API_KEY=KEY)
    try:
        agent = claims("agent", "run", "--corpus", "demo", "--format", "json", env=env, timeout=300)
        weekly = claims("weekly", "--corpus", "demo", "--max-retests", "0", "--factorial-every", "0", env=env,
                        timeout=300)
    finally:
        server.shutdown()
    summary = json.loads(agent.stdout)
    assert summary["mode"] == "rank-only" and "did not answer" in summary["mode_reason"]
    assert "Incorrect API key provided: ***" in summary["mode_reason"]  # the message is kept, the key is not
    written = [p.read_text() for p in (bundled_home / "reports").glob("*")]
    assert written, "the weekly run wrote its report and prompt"
    for text in (agent.stdout, agent.stderr, weekly.stdout, weekly.stderr, *written):
        assert KEY not in text
        assert "Secret123" not in text


def test_the_reviewer_token_of_the_environment_is_never_echoed(bundled_home: Path) -> None:
    token = "tok-Zq81-never-shown-0042"
    env = clean_env(bundled_home, CLAIMS_REVIEWER_TOKEN=token)
    r = claims("show", token, env=env)  # the token pasted where a claim key goes: "no claim '...'"
    assert r.returncode == 2 and token not in r.stderr + r.stdout and "no claim '***'" in r.stderr
