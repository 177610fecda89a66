"""The gpu preset's inputs and training precision, on the CPU with a tiny local model.

A tiny Llama saved in bf16 (as Qwen-class checkpoints are) stands in for a real model:
it is loaded with fp32 master weights, small updates land, its base weights are kept,
and C2 measures it; a missing or malformed input is refused up front with one line.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from retest.presets import RetestConfig, RLConfig, preset
from retest.runner import run_protocol

PROBLEMS = [("1+2*3=", 7), ("2*2+1=", 5), ("3+1*2=", 5), ("1*3+2=", 5), ("2+2*2=", 6), ("3*1+1=", 4),
            ("1+1*2=", 3), ("2*3+1=", 7), ("1+3*1=", 4), ("3*2+2=", 8)]


def _length_reward(completions: list[str], **_: object) -> list[float]:
    # differs within a group from the first step on (a random model's answers are all wrong)
    return [len(c) / 8 for c in completions]


@pytest.fixture(scope="module")
def local_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model directory saved in bf16, problem file) of a tiny random Llama with the char tokenizer."""
    import torch

    from retest.model import build_model, build_tokenizer
    from retest.presets import ModelConfig

    root = tmp_path_factory.mktemp("local-model")
    tok = build_tokenizer()
    model = build_model(ModelConfig(layers=1, width=32, ffn=64, heads=2), len(tok), seed=0)
    model.to(torch.bfloat16).save_pretrained(root / "model")
    tok.save_pretrained(root / "model")
    problems = root / "problems.jsonl"
    problems.write_text("".join(json.dumps({"prompt": p, "answer": a}) + "\n" for p, a in PROBLEMS))
    return root / "model", problems


@pytest.fixture
def length_reward():
    from retest.rewards import REWARDS

    REWARDS["test-length"] = _length_reward
    yield "test-length"
    REWARDS.pop("test-length")


# --- inputs, checked before any work -----------------------------------------------------

def test_the_gpu_preset_takes_a_local_model_and_problem_file(local_model: tuple[Path, Path]) -> None:
    model_dir, problems = local_model
    cfg = preset("gpu", model_dir=model_dir, problems_file=problems)
    assert (cfg.base_model_dir, cfg.problems_file) == (str(model_dir), str(problems))
    assert cfg.sampler == "vllm" and cfg.rl.use_vllm and cfg.rl.max_completion_length == 1024
    assert cfg.rl.reward == "final-answer"  # a real model is scored by its stated answer (retest.answers)
    assert preset("smoke").validate().base_model_dir is None  # the toy presets need neither


@pytest.mark.parametrize("model,problems,fragment", [
    (None, None, "the gpu preset needs a local model and its problems: pass --model-dir DIR"),
    ("model", None, "give --model-dir and --problems together: pass --problems FILE.jsonl"),
    (None, "problems", "give --model-dir and --problems together: pass --model-dir DIR"),
    ("empty", "problems", "has no config.json: pass --model-dir DIR"),
    ("nowhere", "problems", "is not a directory"),
])
def test_missing_inputs_are_refused_with_what_to_pass(local_model, tmp_path: Path, model, problems, fragment) -> None:
    model_dir, problem_file = local_model
    (tmp_path / "empty").mkdir()
    paths = {"model": model_dir, "problems": problem_file, "empty": tmp_path / "empty", "nowhere": tmp_path / "x"}
    with pytest.raises(ValueError, match="pass --") as err:
        preset("gpu", model_dir=paths.get(model), problems_file=paths.get(problems))
    assert fragment in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("lines,fragment", [
    (['{"prompt": "1+2*3=", "answer": 7}', "not json"], "line 2 is not JSON"),
    (['{"prompt": "1+2*3=", "answer": 7}', '{"prompt": "2+2="}'], 'line 2 needs a text "prompt" and an integer "answer"'),
    (['{"prompt": "1+2*3=", "answer": "seven"}', '{"prompt": "2+2=", "answer": 4}'], "line 1 needs"),
    (['{"prompt": "1+2*3=", "answer": 7.5}', '{"prompt": "2+2=", "answer": 4}'], "line 1 needs"),
    (['["1+2*3=", 7]', '{"prompt": "2+2=", "answer": 4}'], "line 1 needs"),
    (['{"prompt": "1+2*3=", "answer": 7}'], "has 1 problem(s), at least 2 needed"),
])
def test_a_problem_file_with_bad_rows_is_refused_naming_the_line(local_model, tmp_path: Path, lines, fragment) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError) as err:
        preset("gpu", model_dir=local_model[0], problems_file=bad)
    msg = str(err.value)
    assert fragment in msg and msg.endswith('(problems_file: JSON lines {"prompt": "...", "answer": <integer>})')


def test_run_protocol_refuses_a_gpu_config_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a local model"):
        run_protocol("update-sparsity", "gpu", cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "art")
    with pytest.raises(ValueError, match="needs a local model"):
        run_protocol("update-sparsity", config=RetestConfig(preset="gpu"), cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() and not (tmp_path / "art").exists()


def test_the_cli_says_what_to_pass_and_exits_2(local_model, tmp_path: Path, home: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from claims.cli import run

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "1+2*3="}\n')
    cases = [
        ([], "error: the gpu preset needs a local model and its problems: pass --model-dir DIR"),
        (["--model-dir", str(tmp_path)], "error: give --model-dir and --problems together: pass --problems"),
        (["--model-dir", str(tmp_path), "--problems", str(local_model[1])], "has no config.json"),
        (["--model-dir", str(local_model[0]), "--problems", str(bad)], 'line 1 needs a text "prompt"'),
    ]
    for extra, fragment in cases:
        code = run(["retest", "run", "update-sparsity", "--claim", "C2", "--preset", "gpu", *extra])
        out = capsys.readouterr()
        assert code == 2 and out.out == "", (extra, out)
        assert out.err.count("\n") == 1 and out.err.startswith("error: ") and fragment in out.err, out.err
    assert not (home / "cache").exists()  # nothing ran, nothing was cached


# --- precision and the base weights -------------------------------------------------------

def test_a_bf16_checkpoint_trains_on_fp32_master_weights(local_model, length_reward: str, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from retest.lab import load_weights
    from retest.measures import update_sparsity
    from retest.rl import checkpoints, load_policy, mixed_precision, train_grpo

    model_dir, _ = local_model
    # the trap: transformers keeps a checkpoint's own dtype, so a plain load trains in pure bf16
    assert AutoModelForCausalLM.from_pretrained(str(model_dir)).dtype == torch.bfloat16
    assert {p.dtype for p in load_policy(model_dir).parameters()} == {torch.float32}
    assert mixed_precision() == (torch.cuda.is_available() and torch.cuda.is_bf16_supported())

    # two steps at lr 1e-5: each weight moves by about 2e-5, under bf16's half spacing at |w| ~ 0.02
    rl = RLConfig(steps=2, prompts_per_step=2, group_size=4, lr=1e-5, checkpoint_every=1,
                  max_completion_length=8, reward=length_reward)
    stats = train_grpo(model_dir, PROBLEMS, rl, seed=0, out_dir=tmp_path)
    assert len(stats["reward"]) == 2
    (_, first), *_, (_, last) = checkpoints(tmp_path)
    base_w, new_w = load_weights(first), load_weights(last)
    assert {str(w.dtype) for w in base_w.values()} == {"float32"}  # the base kept in fp32
    change = update_sparsity(base_w, new_w)["all"]
    # the updates land in the fp32 master weights; rounded to bf16 most of them would vanish
    assert change["changed_fp32"] > 0.5 and change["changed_bf16"] < 0.5 * change["changed_fp32"], change


def test_the_weights_of_a_local_model_are_measured(local_model, tmp_path: Path) -> None:
    import numpy as np
    from safetensors import safe_open

    from retest.lab import Lab, load_weights

    model_dir, problems = local_model
    base_w = load_weights(model_dir)  # a bf16 checkpoint reads back as fp32, exactly
    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        name = next(iter(f.keys()))
        assert np.array_equal(base_w[name], f.get_tensor(name).float().numpy())
    cfg = preset("smoke", model_dir=model_dir, problems_file=problems)
    cfg = dataclasses.replace(
        cfg, rl=dataclasses.replace(cfg.rl, steps=1, checkpoint_every=1, prompts_per_step=2, group_size=2,
                                    max_completion_length=6),
        eval=dataclasses.replace(cfg.eval, samples=2, checkpoint_problems=1, checkpoint_samples=2))
    m = Lab(cfg, tmp_path).measurements()
    (run,) = m.runs
    assert run.weights is not None and run.weights.sparsity["all"].parameters == sum(w.size for w in base_w.values())
