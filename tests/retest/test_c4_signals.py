"""The label-free and open-task signals of C4: majority votes, the majority reward, coverage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from retest.majority import agreement, groups, maj_at_k, majority, majority_reward, reach
from retest.openworld import (
    OpenTask,
    coverage,
    demonstrations,
    is_valid,
    mixed_reward,
    solutions,
    target_of,
    validity,
)
from retest.rewards import REWARDS


def test_majority_votes_on_parsed_answers_and_ignores_unparsable() -> None:
    assert majority([">7", "3+4=7>7", ">8", "junk"]) == 7
    assert majority([">8", ">7"]) == 8  # a tie goes to the answer seen first
    assert majority(["", "+"]) is None


def test_majority_reward_uses_each_groups_own_majority_and_no_labels() -> None:
    prompts = ["1+2*3="] * 3 + ["2*2+1="] * 3
    completions = [">7", ">7", ">9", ">5", ">4", ">4"]
    # the labels (answer) are wrong on purpose: the reward must not read them
    assert majority_reward(completions, prompts, answer=[0] * 6) == [1.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    assert REWARDS["majority"] is majority_reward and REWARDS["open"] is mixed_reward
    assert [list(g) for g in groups(["a", "a", "b", "a"])] == [[0, 1], [2], [3]]


def test_maj_reach_and_agreement() -> None:
    rows = [">5"] * 3 + [">6"] + [">6"] * 3 + [">5"]
    assert maj_at_k(rows, 5, 4) == 0.5 and reach(rows, 6) == 1.0 and reach(rows, 1) == 0.0
    right, same = agreement(rows, 5, 4)
    assert right == 0.5 and same == 0.5  # the first group's majority is right: its reward equals the truth


def test_open_task_validity_coverage_and_reward() -> None:
    assert len(solutions(15)) == 61 and len(solutions(8)) == 21 and solutions(3) == ["1+1+1"]
    assert is_valid("4+5+6", 15) and not is_valid("4+5+7", 15) and not is_valid("0+9+6", 15)
    assert not is_valid(">15", 15)
    assert coverage(["1+1+1"] * 4, 3) == 1.0  # one solution exists: the ceiling is 1
    assert coverage(["4+5+6", "4+5+6", "6+5+4", "x"], 15) == 0.5  # 2 distinct of at most 4
    assert validity(["4+5+6", "x"], 15) == 0.5
    assert target_of("15=") == 15 and target_of("1+2*3=") is None
    assert mixed_reward(["4+5+6", ">7", ">8"], ["15=", "1+2*3=", "1+2*3="], [15, 7, 7]) == [1.0, 1.0, 0.0]


@given(st.integers(3, 27))
def test_every_listed_solution_is_valid(t: int) -> None:
    assert all(is_valid(s, t) for s in solutions(t))


def test_demonstrations_are_mostly_valid_and_diverse() -> None:
    demos = demonstrations(OpenTask(examples=2000, wrong=0.2))
    ok = [is_valid(c, target_of(p)) for p, c in demos]
    assert 0.75 < sum(ok) / len(ok) < 0.85
    assert len({c for p, c in demos if p == "15="}) > 30
