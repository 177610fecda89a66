"""The smoke preset end to end (one real pretraining + GRPO run), storage and CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.retests import to_record
from retest.results import RunMetrics
from retest.runner import run_protocol

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_home(tmp_path_factory: pytest.TempPathFactory, smoke_cache: Path) -> Path:
    home = tmp_path_factory.mktemp("smoke-home")
    (home / "cache").mkdir()
    (home / "cache" / "retest").symlink_to(smoke_cache)  # the CLI's cache is the run's shared one
    return home


@pytest.fixture(scope="module")
def smoke(smoke_home: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    phases: list[str] = []
    result = run_protocol("passk-boundary", "smoke", cache_dir=smoke_home / "cache" / "retest",
                          artifacts_dir=smoke_home / "artifacts" / "retests", progress=phases.append)
    assert result.status == "succeeded", result.log
    return result, phases


def test_rl_raises_reward_and_records_series(smoke) -> None:
    result, phases = smoke
    m = result.metrics
    # RL raises held-out pass@1 and the training reward on the smoke world (seed 0)
    assert m.passk_rl[0] > m.passk_base[0] + 0.05
    half = len(m.train_reward) // 2
    assert sum(m.train_reward[half:]) / half > sum(m.train_reward[:half]) / half
    # format shares and entropy at every checkpoint, step 0 being the base
    steps = m.checkpoint_steps
    assert steps[0] == 0 and steps[-1] == result.config.rl.steps and len(steps) >= 3
    assert all(len(m.format_shares[f]) == len(steps) for f in ("A", "B", "C", "other"))
    assert len(m.entropy) == len(steps) and m.entropy[-1] < m.entropy[0]
    # the base model's prior is the corpus mixture it was trained on (within sampling noise)
    assert m.format_shares_base["C"] == pytest.approx(0.5, abs=0.15)
    assert len(m.passk_base) == len(m.passk_base_low) == len(m.k) == result.config.eval.samples
    assert m.effect is not None and m.effect.value == result.effect_size
    # a verdict with its numbers, labelled as a toy-world single-seed result
    assert result.verdict in ("consistent", "inconsistent", "inconclusive")
    assert result.ci_low <= result.effect_size <= result.ci_high
    assert result.summary.startswith("Toy-world result") and "single seed" in result.summary
    assert result.environment.torch and result.environment.trl and result.environment.seeds == (0,)
    assert any("phase grpo" in p for p in phases) and Path(result.artifacts.metrics).exists()
    # what is written and stored reads back as the same typed series
    stored = json.loads(Path(result.artifacts.metrics).read_text())
    assert RunMetrics.from_stored(stored) == m


def test_other_protocols_reuse_the_cached_runs(smoke, smoke_home: Path) -> None:
    phases: list[str] = []
    for name in ("format-collapse",):  # update-sparsity runs its own learning-rate sweep (tests/retest/test_sweep.py)
        r = run_protocol(name, "smoke", cache_dir=smoke_home / "cache" / "retest",
                         artifacts_dir=smoke_home / "artifacts" / "retests", progress=phases.append)
        assert r.status == "succeeded" and r.verdict is not None, r.log
        assert r.metrics.timings["total"] < 15  # nothing retrained
    assert any("base model reused" in p for p in phases) and any("grpo seed 0 reused" in p for p in phases)
    assert not any("pretrain step" in p for p in phases)
    sparsity = smoke[0].metrics.sparsity["all"]  # the shared runs' weight change, in the plot series
    assert 0 <= sparsity.changed_bf16 <= sparsity.changed_fp32 <= 1
    assert smoke[0].metrics.ranks


def test_grpo_runs_of_other_prompts_of_the_same_size_are_not_shared(smoke, tmp_path: Path) -> None:
    from retest.model import ensure_base
    from retest.presets import RLConfig, preset
    from retest.rl import ensure_rl

    result, _ = smoke
    cfg = preset("smoke")
    base_dir, _, reused = ensure_base(cfg.world, cfg.model, cfg.pretrain, Path(result.artifacts.runs[0]).parent)
    assert reused
    tiny = RLConfig(steps=1, prompts_per_step=2, group_size=2, checkpoint_every=1, max_completion_length=6)
    one, other = [("1+2*3=", 7), ("2*2+1=", 5)], [("1+1*1=", 2), ("3*1+2=", 5)]
    first, _, reused_first = ensure_rl(base_dir, base_dir.name, one, tiny, 0, tmp_path)
    second, _, reused_second = ensure_rl(base_dir, base_dir.name, other, tiny, 0, tmp_path)
    again, _, reused_again = ensure_rl(base_dir, base_dir.name, one, tiny, 0, tmp_path)
    assert not reused_first and not reused_second and first != second
    assert again == first and reused_again


def test_a_crash_gives_a_failed_result_and_ctrl_c_an_interrupted_one(tmp_path: Path) -> None:
    def crash(msg: str) -> None:
        raise RuntimeError("disk full")

    def interrupt(msg: str) -> None:
        raise KeyboardInterrupt

    r = run_protocol("passk-boundary", "smoke", cache_dir=tmp_path, artifacts_dir=tmp_path, progress=crash)
    assert r.status == "failed" and r.verdict is None and "RuntimeError: disk full" in r.log
    assert r.finished_at is not None and r.metrics.k == () and "total" not in r.metrics.timings
    assert to_record(r).status == "failed" and to_record(r).verdict is None
    stopped = run_protocol("passk-boundary", "smoke", cache_dir=tmp_path, artifacts_dir=tmp_path, progress=interrupt)
    assert stopped.status == "interrupted" and to_record(stopped).status == "interrupted"


def test_record_run_and_cli_on_the_bundled_claims(smoke, smoke_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from claims.cli import build_app
    from claims.importer import import_bundled
    from claims.models import AuditEntry, Claim, RetestRun
    from claims.retests import record_run
    from claims.store import open_store

    for key in list(os.environ):
        if key.startswith("CLAIMS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CLAIMS_HOME", str(smoke_home))
    store = open_store(f"sqlite:///{smoke_home / 'claims.db'}")
    import_bundled(store)
    result, _ = smoke
    with store.write() as s:
        run = record_run(s, "C1", to_record(result))
    with store.read() as s:
        claim = s.scalar(select(Claim).where(Claim.key == "C1"))
        assert claim.last_retested_at == result.finished_at
        assert s.get(RetestRun, run.id).verdict == result.verdict
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "retest_recorded")).entity_id == str(run.id)

    runner = CliRunner()
    out = runner.invoke(build_app(), ["retest", "run", "format-collapse", "--claim", "C3", "--format", "json"])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)
    assert record["claim"] == "C3" and record["status"] == "succeeded" and record["verdict"]
    strength = record["strength"]  # a one-seed smoke run is a plumbing check: it may never propose
    assert (strength["preset"], strength["rl_seeds"], strength["pretrain_seeds"]) == ("smoke", 1, 1)
    assert strength["interval"].startswith("problems") and isinstance(strength["flags"], list)
    assert strength["may_propose"] is False and "smoke (plumbing check)" in strength["why"]
    # the CLI writes where the weekly job does: <home>/artifacts/retests
    assert Path(record["artifacts"]["folder"]).parent == smoke_home / "artifacts" / "retests"
    assert not (smoke_home / "retest").exists()
    shown = runner.invoke(build_app(), ["show", "C3"])
    assert "format-collapse" in shown.stdout and record["verdict"] in shown.stdout

    bad = runner.invoke(build_app(), ["retest", "run", "passk-boundary", "--claim", "C99"])
    assert bad.exit_code != 0
    listed = runner.invoke(build_app(), ["retest", "protocols", "--format", "json"])
    names = {p["name"]: p for p in json.loads(listed.stdout)}
    assert names["passk-boundary"]["claim_hint"] == "C1" and names["update-sparsity"]["interval_days"] > 0
