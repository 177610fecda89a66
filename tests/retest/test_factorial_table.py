"""Outcome tables as CSV: what is read, and the first fault named by its line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retest.factorial.table import COLUMNS, TableError, decode, parse_table

HEADER = ",".join(COLUMNS)


def test_runs_are_read_per_outcome_in_table_order_with_seeds_as_labels():
    text = (f"{HEADER}\nA-rich/long,grpo,0,0,pass@1,0.41\nA-rich/long,grpo,0,0,kl,1.5\n"
            "C-rich/long,grpo,s7,0,pass@1,0.2\n\n")
    got = parse_table(text)
    assert list(got) == ["pass@1", "kl"]
    assert got["pass@1"] == [("A-rich/long", "grpo", "0", "0", 0.41), ("C-rich/long", "grpo", "s7", "0", 0.2)]


def test_columns_in_any_order_and_extra_columns_are_ignored():
    text = "value,note,outcome,rl_seed,pretrain_seed,optimizer,prior\n0.5,x,pass@1,1,0,dapo,A\n"
    assert parse_table(text) == {"pass@1": [("A", "dapo", "0", "1", 0.5)]}


@pytest.mark.parametrize("text, line, says", [
    ("", None, "an empty table"),
    (f"{HEADER}\n", None, "a header and no runs"),
    ("prior,optimizer,pretrain_seed,rl_seed,value\nA,g,0,0,1\n", 1, "the header lacks outcome"),
    (f"{HEADER}\nA,g,0,0,p,0.1\nA,g,0,1,p,abc\n", 3, "value 'abc' is not a number"),
    (f"{HEADER}\nA,g,0,0,p,nan\n", 2, "not a finite number"),
    (f"{HEADER}\nA,g,0,0,p,0.1\nA,g,0,0,p,0.2\n", 3, "the same run and outcome as line 2"),
    (f"{HEADER}\nA,,0,0,p,0.1\n", 2, "empty optimizer"),
    (f"{HEADER}\nA,g,0\n", 2, "3 fields, the header has 6"),
])
def test_the_first_fault_is_named_by_its_line(text, line, says):
    with pytest.raises(TableError, match=says) as err:
        parse_table(text)
    assert err.value.line == line


def test_a_binary_file_is_refused():
    with pytest.raises(TableError, match="binary"):
        decode(b"\x7fELF\x02\x01\x00\x00")
    with pytest.raises(TableError, match="not UTF-8") as err:
        decode(b"prior\n\xff\xfe\n")
    assert err.value.line == 2
    assert decode("\ufeffprior".encode()) == "prior"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from("xyz"), st.integers(0, 3), st.integers(0, 3),
                          st.floats(-1e6, 1e6, allow_nan=False)), unique_by=lambda r: r[:4], min_size=1))
def test_what_is_written_is_read_back(runs):
    text = HEADER + "\n" + "".join(f"{p},{o},{k},{r},m,{v!r}\n" for p, o, k, r, v in runs)
    assert parse_table(text) == {"m": [(p, o, str(k), str(r), v) for p, o, k, r, v in runs]}
