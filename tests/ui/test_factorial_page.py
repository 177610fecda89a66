"""The review app's Factorial page (Streamlit AppTest on a real SQLite file) and its frames."""

from __future__ import annotations

import html

import pytest
from streamlit.testing.v1 import AppTest

from agent.factorial import to_record
from claims.factorial import record_factorial
from tests.factorial_cases import make_result
from ui import factorial

TIMEOUT = 30


def page(app_path) -> AppTest:  # type: ignore[no-untyped-def]
    at = AppTest.from_file(app_path, default_timeout=TIMEOUT).run()
    at.switch_page("views/factorial.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def seen(value: str) -> str:
    """Text as a browser shows it: character references decoded, zero-width spaces gone."""
    return html.unescape(value).replace("\u200b", "")


def shown(at: AppTest) -> str:
    return seen("\n".join(m.value for m in at.markdown))


def store_grid(store, **kw) -> int:  # type: ignore[no-untyped-def]
    with store.write() as s:
        return record_factorial(s, None, to_record(make_result(**kw))).id


def test_without_a_grid_the_page_says_how_to_run_one(bundled_store, app_path):
    at = page(app_path)
    assert "claims retest factorial --preset weekly" in at.info[0].value


def test_the_page_shows_the_answer_shares_with_intervals_and_the_outcome_by_prior_and_optimizer(bundled_store, app_path):
    store_grid(bundled_store, preset="weekly", flags=("one amount level",))
    at = page(app_path)
    text = shown(at)
    assert "Toy-world answer (a prior x optimizer factorial, weekly preset, 72 of 72 cells" in text
    assert "Confound: one amount level" in seen(at.warning[0].value)
    assert "A candidate only" in seen(at.info[0].value)
    shares = at.dataframe[0].value
    assert list(shares["outcome"].unique()) == ["pass@256", "pass@1"]
    p256 = shares[shares["outcome"] == "pass@256"].set_index("component")
    assert (p256.loc["prior", "estimate"], p256.loc["prior", "low"], p256.loc["prior", "high"]) == pytest.approx((0.6, 0.5, 0.7))
    assert len(at.get("vega_lite_chart")) == 2  # shares with error bars; outcome by prior and optimizer
    pivot = at.dataframe[1].value.set_index("prior")
    assert list(pivot.columns) == ["grpo", "dr_grpo", "dapo", "ppo_kl"]
    assert pivot.loc["C-rich/long", "grpo"] == pytest.approx(0.5 + 0.2 + 0.005)  # mean over the 3 RL seeds
    at.selectbox(key="fx_outcome").select("pass@1").run()
    assert at.dataframe[1].value.set_index("prior").loc["A-rich/short", "dapo"] == pytest.approx(0.304)


def test_a_strong_grid_says_it_may_propose_and_text_is_shown_plain(bundled_store, app_path):
    hostile = "![x](http://127.0.0.1:9/pixel.png) [click](http://127.0.0.1:9)"
    store_grid(bundled_store, priors=(hostile, "C-rich/long"))
    at = page(app_path)
    assert "May propose a new finding" in seen(at.success[0].value)
    raw = "\n".join(m.value for m in at.markdown)
    assert "](" not in raw and "<img" not in raw and "pixel.png" in seen(raw)


def test_a_failed_grid_shows_its_log_and_no_plots(bundled_store, app_path):
    from claims.factorial import FactorialRecord

    with bundled_store.write() as s:
        record_factorial(s, None, FactorialRecord(preset="weekly", status="failed", log="RuntimeError: boom"))
    at = page(app_path)
    assert "failed · 0 of 0 cells" in shown(at) and at.code[0].value == "RuntimeError: boom"
    assert len(at.get("vega_lite_chart")) == 0


def test_frames_hold_the_shares_and_the_seed_spread():
    record = to_record(make_result(failed=1))
    shares = factorial.shares_frame(record)
    assert shares.groupby("outcome")["estimate"].sum().round(6).to_dict() == {"pass@1": 1.0, "pass@256": 1.0}
    cells = factorial.outcome_frame(record, "pass@256")
    first = cells[(cells["prior"] == "A-rich/short") & (cells["optimizer"] == "grpo")].iloc[0]
    assert (first["runs"], first["low"], first["high"]) == (5, pytest.approx(0.5), pytest.approx(0.51))  # one failed cell left out
    assert factorial.outcomes_of(record)[:2] == ["pass@256", "pass@1"]
