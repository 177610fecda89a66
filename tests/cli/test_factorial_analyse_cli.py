"""`claims retest factorial analyse TABLE.csv`: the shares of any outcome table, and one error line
(exit 2) naming the line for a table it cannot read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from claims.cli import run
from retest.factorial.analysis import COMPONENTS
from retest.factorial.simulation import SCENARIOS, Design, simulate_table

HEADER = "prior,optimizer,pretrain_seed,rl_seed,outcome,value\n"


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for outcome, variances in SCENARIOS.items():
        rows, _ = simulate_table(rng, variances, Design(priors=3, bases=3, optimizers=4, rl_seeds=2))
        lines += [f"{p},{o},{k},{r},{outcome},{v:.6f}\n" for p, o, k, r, v in rows]
    path = tmp_path / "grid.csv"
    path.write_text("".join(lines))
    return path


def test_json_gives_shares_per_outcome_and_component(capsys, table):
    assert run(["retest", "factorial", "analyse", str(table), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["shares"]) == {"null_prior", "all_on"}
    for outcome, shares in data["shares"].items():
        assert set(shares) == set(COMPONENTS)
        assert all(set(s) == {"estimate", "low", "high"} for s in shares.values())
        assert sum(s["estimate"] for s in shares.values()) == pytest.approx(1, abs=1e-3)
    assert data["shares"]["null_prior"]["prior"]["low"] == 0
    assert data["df"]["all_on"] == {"P": 2, "O": 3, "PO": 6, "S": 6, "SO": 18, "E": 36}


def test_the_table_shows_each_component_with_its_interval_without_markup(capsys, tmp_path, table):
    marked = tmp_path / "marked.csv"
    marked.write_text(table.read_text().replace(",all_on,", ",[bold]x[/bold],"))
    assert run(["retest", "factorial", "analyse", str(marked)]) == 0
    out = capsys.readouterr().out
    assert "[bold]x[/bold]" in out and "base_x_optimizer" in out and "95% interval" in out


@pytest.mark.parametrize("content, says", [
    (HEADER.replace(",outcome", "") + "A,g,0,0,0.1\n", "grid.csv:1: the header lacks outcome"),
    (HEADER + "A,g,0,0,p,0.1\nA,g,0,1,p,abc\n", "grid.csv:3: value 'abc' is not a number"),
    (HEADER, "an empty table"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "a binary file"),
    (HEADER + "A,g,0,0,p,0.1\nA,h,0,0,p,0.2\n", "outcome p: every prior has a single pretraining seed"),
])
def test_a_table_it_cannot_read_is_one_error_line_exit_2(capsys, tmp_path, content, says):
    path = tmp_path / "grid.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert run(["retest", "factorial", "analyse", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert says in err


def test_a_seed_under_one_prior_only_is_fine(capsys, tmp_path, table):
    extra = "".join(f"p0,o{j},99,{r},all_on,{0.1 * j + 0.01 * r}\n" for j in range(4) for r in range(2))
    path = tmp_path / "more.csv"
    path.write_text(table.read_text() + extra)
    assert run(["retest", "factorial", "analyse", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["df"]["all_on"]["S"] == 7
