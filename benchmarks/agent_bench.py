"""Agent benchmarks: judge throughput and the wall time of an agent run.

1. Judgements per second against the loopback OpenAI-compatible server answering
   after a fixed latency (default 0.5 s, like a small local model), at judge
   concurrency 1, 4 and 16 (the `llm_concurrency` semaphore), as a ratio to 1.
2. The wall time of `run_agent` over the bundled claims and the demo corpus:
   rank-only on a fresh database (embeds every paper), rank-only again (cached),
   and with the judge (fresh database, same latency, the default budget: every candidate
   judged, up to 250 a run).

Run: HF_HUB_OFFLINE=1 python benchmarks/agent_bench.py [--latency 0.5]
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.agent.openai_server import OpenAIServer  # noqa: E402

CORPUS = REPO / "claims" / "data" / "demo-corpus.jsonl"


def judge_throughput(server: OpenAIServer, concurrency: int, n: int) -> float:
    from agent.judge import JudgeRequest, OpenAIJudge

    judge = OpenAIJudge(server.base_url, "fake-judge", timeout=30, concurrency=concurrency)
    request = JudgeRequest("RL only sharpens the prior.", "~2025", "A paper", "We find RL sharpens. It does.")
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda _: judge.judge(request), range(n)))
    elapsed = time.monotonic() - start
    failed = sum(r.failed for r in results)
    assert not failed, f"{failed} failed judgements"
    return n / elapsed


def agent_run(home: Path, **settings_kw: object) -> tuple[float, object]:
    from agent.run import run_agent
    from claims.importer import import_bundled
    from claims.settings import Settings
    from claims.store import open_store

    settings = Settings(home=home, database_url=f"sqlite:///{home / 'claims.db'}", **settings_kw)
    store = open_store(settings.resolved_database_url)
    import_bundled(store)  # a no-op when already imported
    start = time.monotonic()
    summary = run_agent(store, settings, corpus=CORPUS, use_llm=bool(settings.llm_base_url))
    elapsed = time.monotonic() - start
    store.dispose()
    return elapsed, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the server takes per answer")
    args = parser.parse_args()
    server = OpenAIServer(delay=args.latency).start()
    print(f"loopback judge latency {args.latency}s; cpus {os.cpu_count()}; load {os.getloadavg()[0]:.1f}")

    print("\n1. judgements/s")
    base = None
    for concurrency, n in ((1, 12), (4, 48), (16, 128)):
        rate = judge_throughput(server, concurrency, n)
        base = base or rate
        print(f"  concurrency {concurrency:>2}: {n:>3} judgements, {rate:6.2f}/s  ({rate / base:4.1f}x concurrency 1)")

    print("\n2. agent run over bundled claims + demo corpus (159 papers)")
    with tempfile.TemporaryDirectory() as tmp:
        rank_home, judge_home = Path(tmp) / "rank", Path(tmp) / "judge"
        cold, s1 = agent_run(rank_home)
        warm, _ = agent_run(rank_home)
        fresh, _ = agent_run(Path(tmp) / "rank2")  # fresh database, model already loaded
        judged, s3 = agent_run(judge_home, llm_base_url=server.base_url, llm_model="fake-judge",
                               llm_concurrency=4)
        print(f"  rank-only, fresh database, first in process: {cold:6.1f}s  (search {s1.timings.get('search', 0):.1f}s, "
              "incl. torch import and model load)")
        print(f"  rank-only, fresh database, model loaded:     {fresh:6.1f}s")
        print(f"  rank-only, embeddings cached:                {warm:6.1f}s")
        print(f"  with judge, fresh database, model loaded:    {judged:6.1f}s  ({s3.papers_judged} judged, "
              f"{s3.judge_failures} failed, {sum(s3.left_unjudged.values())} left by the budget; judging "
              f"{s3.judge_seconds:.1f}s wall, {s3.judge_requests} requests, {s3.prompt_tokens} + "
              f"{s3.completion_tokens} tokens; {judged / fresh:4.2f}x rank-only)")
    server.stop()


if __name__ == "__main__":
    main()
