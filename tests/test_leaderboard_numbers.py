"""Numbers the leaderboard shows: per-binding latency, undefined cells, averages over defined cells."""

from __future__ import annotations

import pandas as pd
import pytest

from harness import RunOptions, run_benchmark
from harness.results.leaderboard import build_leaderboard, to_markdown
from harness.results.runs import load_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lbn")
    res = run_benchmark("smoke", ["keyword-rules", "profanity-check"], ["2023-02-15", "2025-10-29"],
                        options=RunOptions(n_resamples=50, latency_sample=30), out=out / "runs",
                        cache_root=out / "cache")
    return load_run(res.run_dir)


def test_policy_conditioned_latency_is_per_binding(run):
    lat = run.latency
    board = build_leaderboard(run, n_resamples=50, baselines=False)
    for pid in ("2023-02-15", "2025-10-29"):
        want = lat[(lat["classifier"] == "keyword-rules") & (lat["binding"] == pid)]["p50_s"].iloc[0] * 1000
        got = {r["p50_ms"] for r in board["rows"] if r["classifier"] == "keyword-rules" and r["policy_version"] == pid}
        assert len(got) == 1 and got.pop() == pytest.approx(want), pid
    a = {r["p50_ms"] for r in board["rows"] if r["classifier"] == "keyword-rules" and r["policy_version"] == "2023-02-15"}
    b = {r["p50_ms"] for r in board["rows"] if r["classifier"] == "keyword-rules" and r["policy_version"] == "2025-10-29"}
    assert a != b  # two bindings, two measurements (the old code showed the first binding's everywhere)


def test_undefined_cells_are_not_zero_and_averages_skip_them(run):
    board = build_leaderboard(run, n_resamples=50, baselines=False)
    rows = pd.DataFrame(board["rows"])
    prof = rows[(rows["classifier"] == "profanity-check") & (rows["policy_version"] == "2023-02-15")]
    covered = prof[prof["covered"]]
    assert len(covered) == 1 and covered["category"].iloc[0] == "hate_harass_violence"
    assert prof[~prof["covered"]]["f1"].isna().all()  # not covered: undefined, not 0
    md = to_markdown(board)
    macro_line = next(l for l in md.splitlines() if l.startswith("| profanity-check |"))
    f1 = float(covered["f1"].iloc[0])
    assert f"{f1:.3f}" in macro_line and "1 (F1)" in macro_line  # the average is over its one category


def test_markdown_neutralises_links_and_emphasis_in_names():
    from harness.results.leaderboard import _md_escape

    out = _md_escape("[click me](http://evil.example) ![x](http://evil.example/x.png) **b** <i>|</i>")
    assert "](" not in out.replace("\\](", "").replace("\\]\\(", "")
    assert "[click me]" not in out and "**" not in out and "<i>" not in out and "|" not in out.replace("\\|", "")


def test_ties_are_relative_to_the_leader_and_uncovered_systems_are_unranked(run):
    from harness import metrics as M
    from harness.policies import load_policy
    from harness.scoring import category_scores

    board = build_leaderboard(run, n_resamples=50, baselines=False)
    rows = [r for r in board["rows"] if r["policy_version"] == "2023-02-15" and r["category"] == "hate_harass_violence"]
    covered = [r for r in rows if r["covered"]]
    assert [r["rank"] for r in covered] == list(range(1, len(covered) + 1))
    assert all(r["rank"] is None for r in rows if not r["covered"])
    leader, other = covered[0], covered[1]
    pol = load_policy("2023-02-15")
    suite = run.suite
    preds = {p.name: p for p in run.predictions if p.binding in ("", "2023-02-15")}
    j = pol.category_keys.index("hate_harass_violence")
    Sa, _ = category_scores(preds[leader["classifier"]], pol)
    Sb, _ = category_scores(preds[other["classifier"]], pol)
    y = suite.labels(pol)[:, j]
    res = M.paired_bootstrap("f1", y, Sa[:, j], Sb[:, j], n_resamples=50, seed=0, threshold=0.5)
    assert other["p_value_vs_leader"] == pytest.approx(float(res.p_value))
    assert "tied_with_above" not in other


def test_objects_have_short_reprs(run):
    from harness.suites import load_suite

    suite = load_suite("core")
    assert len(repr(suite)) < 200 and "20" in repr(suite) and "core" in repr(suite)
    assert len(repr(run)) < 400 and run.run_id in repr(run)
