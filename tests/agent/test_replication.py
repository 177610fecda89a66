"""Replications made reachable: `claims retest run --replicate` and the weekly job draw the next
block of seeds, record them, and the replicated pair proposes (a fake engine: no training).

The engine's side (caches keyed by the seeds) is `retest.model.base_name` / `retest.rl.rl_name`,
checked here by name; the rule itself is tests/claims/test_retest_gate.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from claims.models import Claim, Proposal, RetestPlan, RetestRun, utcnow
from claims.planning import queued_retests


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """A fake `retest.runner.run_protocol`: every run says "inconsistent" over seeds; the seeds it
    was given are listed (RL seeds, pretraining seeds)."""
    from retest.measures import IntervalKind
    from retest.presets import preset as load_preset
    from retest.runner import RetestResult

    seen: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def run_protocol(name, preset="smoke", seeds=None, config=None, **_):
        cfg = config or load_preset(preset)
        cfg = cfg.with_seeds(seeds) if seeds is not None else cfg
        seen.append((cfg.seeds, cfg.pretrain_seeds))
        return RetestResult(protocol=name, protocol_version="1", preset=cfg.preset, config=cfg, status="succeeded",
                            interval_over="RL seeds, problems", interval_kind=IntervalKind.SEEDS,
                            verdict="inconsistent", effect_size=-0.2, ci_low=-0.3,
                            ci_high=-0.1, summary="fake toy-world result", finished_at=utcnow())

    monkeypatch.setattr("retest.runner.run_protocol", run_protocol)
    return seen


def test_the_weekly_job_replicates_a_failed_strong_run_before_it_proposes(bundled_store, settings, engine) -> None:
    from agent.weekly import run_one_retest

    store = bundled_store
    with store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        s.add(RetestPlan(claim_id=c1.id, protocol="passk-boundary", decision="queue", reason="never run"))
    said: list[str] = []
    first = run_one_retest(store, settings, queued_retests(store)[0], "standard", said.append)
    assert engine == [((0, 1, 2), (0, 1))] and first.may_propose and first.verdict == "inconsistent"
    with store.read() as s:
        assert s.scalar(select(Proposal.id)) is None  # one run: nothing proposed yet
    (replication,) = queued_retests(store)  # ... its replication is the claim's next retest
    assert replication.reason.startswith(f"replicate run {first.id} (verdict inconsistent) on new seeds")

    second = run_one_retest(store, settings, replication, "standard", said.append)
    assert engine[1] == ((3, 4, 5), (2, 3))  # the next block: new bases, new RL seeds
    with store.read() as s:
        run = s.get(RetestRun, second.id)
        assert run.strength["rl_seeds"] == [3, 4, 5] and run.strength["pretrain_seeds"] == [2, 3]
        assert run.config["seeds"] == [3, 4, 5] and run.config["pretrain_seeds"] == [2, 3]
        assert f"replication on new seeds (pretraining seeds [2, 3], RL seeds [3, 4, 5]) of run {first.id}" in run.reason
        (proposal,) = s.scalars(select(Proposal))
        assert proposal.proposed_status == "contested"
        assert sorted(r.id for r in proposal.retest_runs) == [first.id, second.id]
    assert queued_retests(store) == []  # replicated: nothing more to replicate


def test_the_weekly_job_queues_a_claims_other_protocols_and_proposes_once_all_agree(bundled_store, settings,
                                                                                   engine) -> None:
    from agent.weekly import run_one_retest

    store = bundled_store
    with store.write() as s:
        c5 = s.scalar(select(Claim).where(Claim.key == "C5"))
        s.add(RetestPlan(claim_id=c5.id, protocol="hard-samples", decision="queue", reason="never run"))
    run_one_retest(store, settings, queued_retests(store)[0], "standard", lambda _m: None)
    queued = queued_retests(store)
    assert sorted(q.protocol for q in queued) == ["calibration", "hard-samples", "prior-corruption"]
    assert any("has no strong run yet" in q.reason for q in queued)
    for _ in range(10):  # each strong "inconsistent" queues its replication; all run on the next blocks
        if not queued_retests(store):
            break
        with store.read() as s:
            assert s.scalar(select(Proposal.id)) is None  # not before every protocol is replicated
        run_one_retest(store, settings, queued_retests(store)[0], "standard", lambda _m: None)
    assert queued_retests(store) == [] and len(engine) == 6
    with store.read() as s:
        (proposal,) = s.scalars(select(Proposal))
        assert proposal.proposed_status == "contested" and len(proposal.retest_runs) == 6


def test_a_smoke_run_never_queues_a_replication(bundled_store, settings, engine) -> None:
    from agent.weekly import run_one_retest

    with bundled_store.write() as s:
        c1 = s.scalar(select(Claim).where(Claim.key == "C1"))
        s.add(RetestPlan(claim_id=c1.id, protocol="passk-boundary", decision="queue", reason="never run"))
    run_one_retest(bundled_store, settings, queued_retests(bundled_store)[0], "smoke", lambda _m: None)
    assert queued_retests(bundled_store) == []


def test_cli_replicate_draws_the_next_block_and_records_it(bundled_store, engine) -> None:
    from claims.cli import build_app

    def run(*extra: str) -> dict:
        out = CliRunner().invoke(build_app(), ["retest", "run", "passk-boundary", "--claim", "C1", "--preset",
                                               "standard", "--format", "json", *extra])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    first = run()
    assert (first["strength"]["rl_seed_ids"], first["strength"]["pretrain_seed_ids"]) == ([0, 1, 2], [0, 1])
    # strong, but one run: the gate (the weekly job's) proposes nothing and says why
    assert first["proposals"] == [] and f"(run {first['id']}) verdict inconsistent" in first["not_proposed"]
    assert "not yet replicated on new seeds" in first["not_proposed"]
    again = run("--replicate")
    assert (again["strength"]["rl_seed_ids"], again["strength"]["pretrain_seed_ids"]) == ([3, 4, 5], [2, 3])
    assert again["config"]["seeds"] == [3, 4, 5] and again["config"]["pretrain_seeds"] == [2, 3]
    assert "replication on new seeds" in again["reason"] and again["strength"]["may_propose"] is True
    (proposed,) = again["proposals"]  # replicated: the pair proposes, as from the weekly job
    assert proposed["proposed_status"] == "contested" and again["not_proposed"] == ""
    with bundled_store.read() as s:
        proposal = s.get(Proposal, proposed["id"])
        assert sorted(r.id for r in proposal.retest_runs) == [first["id"], again["id"]]
    third = run("--replicate", "--seeds", "2")  # fewer RL seeds: still after every seed used
    assert (third["strength"]["rl_seed_ids"], third["strength"]["pretrain_seed_ids"]) == ([6, 7], [4, 5])
    assert third["proposals"] == [] and "same finding already proposed" in third["not_proposed"]
    assert engine == [((0, 1, 2), (0, 1)), ((3, 4, 5), (2, 3)), ((6, 7), (4, 5))]


def test_cli_says_why_a_smoke_run_proposes_nothing(bundled_store, engine) -> None:
    from claims.cli import build_app

    out = CliRunner().invoke(build_app(), ["retest", "run", "passk-boundary", "--claim", "C1"])
    assert out.exit_code == 0, out.output
    assert "not strong, never counts: preset smoke (plumbing check)" in out.stdout
    assert "no status proposal: " in out.stdout and "no strong retest run" in out.stdout
    with bundled_store.read() as s:
        assert s.scalar(select(Proposal.id)) is None and queued_retests(bundled_store) == []


def test_cli_prints_the_proposal_a_replicated_pair_makes(bundled_store, engine) -> None:
    from claims.cli import build_app

    args = ["retest", "run", "passk-boundary", "--claim", "C1", "--preset", "standard"]
    first = CliRunner().invoke(build_app(), args)
    assert "no status proposal: " in first.stdout and "not yet replicated on new seeds" in first.stdout
    assert queued_retests(bundled_store) == []  # the command line queues nothing: it says how to replicate
    again = CliRunner().invoke(build_app(), [*args, "--replicate"])
    with bundled_store.read() as s:
        (pid,) = s.scalars(select(Proposal.id))
    assert f"proposed: #{pid} C1 -> contested" in again.stdout


def test_the_caches_key_on_the_seeds() -> None:
    from retest.model import base_name
    from retest.presets import preset as load_preset
    from retest.rl import rl_name

    cfg = load_preset("standard")
    names = {base_name(cfg.world, cfg.model, dataclasses.replace(cfg.pretrain, seed=s)) for s in (0, 1, 2, 3)}
    assert len(names) == 4  # a new pretraining seed is a new base model
    prompts = [("1+1=", 2)]
    assert rl_name("base-x", prompts, cfg.rl, 0) != rl_name("base-x", prompts, cfg.rl, 3)


def test_a_local_models_revision_names_it(tmp_path: Path) -> None:
    from agent.retests import model_revision

    model = tmp_path / "tiny-chat"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 64}')
    (model / "model.safetensors").write_bytes(b"0" * 16)
    first = model_revision(model)
    assert first.startswith("tiny-chat@") and model_revision(model) == first
    (model / "model.safetensors").write_bytes(b"0" * 32)  # other weights: another revision
    assert model_revision(model) != first
    snapshot = tmp_path / "models--org--name" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    assert model_revision(snapshot) == "models--org--name@aaaaaaaaaaaa"
