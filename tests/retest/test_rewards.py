"""The reward table is explicit: every reward is there whatever was imported first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retest.rewards import REWARDS, reward

ALL = {"correct", "format-credit", "final-answer", "confidence-binary", "brier", "confidence-binary-final", "brier-final",
       "majority", "majority-final", "open"}


def test_every_reward_is_named_in_one_table() -> None:
    assert set(REWARDS) == ALL
    assert reward("brier") is REWARDS["brier"]
    with pytest.raises(ValueError, match="unknown reward 'nope': choose one of"):
        reward("nope")


def test_importing_the_trainer_alone_gives_every_reward() -> None:
    # a spawned training worker imports retest.rl (to unpickle ensure_rl) and nothing else:
    # no protocol has to be imported first for its reward to exist
    code = ("import sys, retest.rl, retest.rewards; "
            "assert 'retest.protocols' not in sys.modules; print(sorted(retest.rewards.REWARDS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == str(sorted(ALL))


def test_the_majority_reward_reads_a_real_models_stated_answers() -> None:
    # the toy world's parser reads no answer in real text: its majority reward is 0 for every completion
    texts = ["so \\boxed{7}", "#### 7", "the answer is 7.", "\\boxed{8}"]
    assert reward("majority")(texts, prompts=["p"] * 4) == [0.0] * 4
    assert reward("majority-final")(texts, prompts=["p"] * 4) == [1.0, 1.0, 1.0, 0.0]
