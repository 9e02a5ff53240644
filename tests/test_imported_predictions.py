"""Imported predictions (issue 16, item 2): ``policybench predictions import`` and ``imported:<name>``.

A scores file for the smoke suite is made from the suite's own labels with noise (Llama Guard 3
labels: high where the example is unsafe and one of its topics is among the label's crosswalk
topics), in CSV, JSONL and Parquet; imported through the CLI, it runs, scores, charts and goes on
a leaderboard like a built-in, with the same metrics as the same scores given directly. Every bad
file is exit 2 with its file, line and field named, and nothing stored.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from harness.classifiers.base import Taxonomy
from harness.classifiers.imported import ImportedPredictions, imported_systems, lookup_hash
from harness.classifiers.registry import get_classifier, list_classifiers
from harness.cli import app
from harness.errors import InputError
from harness.options import RunOptions
from harness.policies import load_crosswalk
from harness.results.benchmark import run_benchmark
from harness.runner.cache import text_hash
from harness.runner.imports import import_predictions, resolve_taxonomy
from harness.suites import load_suite

FIXTURES = Path(__file__).parent / "fixtures" / "imported"
CUSTOM_CROSSWALK = FIXTURES / "acme-trust-safety.yaml"
POLICIES = ["2023-02-15", "2025-10-29"]
#: Columns that name the run or the system rather than measure it.
IDENTITY = ["run_id", "classifier", "classifier_version"]

runner = CliRunner()


# -- helpers ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _stores(tmp_path, monkeypatch):
    """A fresh imports folder and prediction cache for every test."""
    monkeypatch.setenv("POLICYBENCH_IMPORTS", str(tmp_path / "imports"))
    monkeypatch.setenv("POLICYBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def smoke():
    return load_suite("smoke")


def noisy_scores(suite, crosswalk: str | Path = "llama-guard-3", seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``(labels, scores)``: high where the example is unsafe and a topic is among the label's topics."""
    cw = load_crosswalk(crosswalk)
    rng = np.random.default_rng(seed)
    labels = list(cw.labels_keys)
    S = np.zeros((len(suite), len(labels)), np.float32)
    for i, e in enumerate(suite.examples):
        for j, k in enumerate(labels):
            hit = e.label == "unsafe" and bool(set(e.topics) & set(cw.topics_for(k)))
            S[i, j] = np.clip((0.75 if hit else 0.2) + rng.normal(0, 0.2), 0.0, 1.0)
    return labels, S


def write_scores(path: Path, suite, labels, S, *, key: str = "id", with_text: bool = False,
                 header: dict | None = None, rows: list[int] | None = None) -> Path:
    """Write ``S`` for ``suite`` in the format of ``path``'s extension (rows: the examples to write)."""
    idx = list(range(len(suite))) if rows is None else rows
    records = []
    for i in idx:
        e = suite.examples[i]
        rec = {key: getattr(e, key)}
        if with_text and key == "id":
            rec["text"] = e.text
        rec.update({lab: float(S[i, j]) for j, lab in enumerate(labels)})
        records.append(rec)
    cols = list(records[0])
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            for k, v in (header or {}).items():
                fh.write(f"# {k}: {v}\n")
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(records)
    elif path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            if header:
                fh.write(json.dumps({"_provenance": header}) + "\n")
            for r in records:
                fh.write(json.dumps(r) + "\n")
    else:
        table = pa.Table.from_pylist(records)
        if header:
            table = table.replace_schema_metadata({b"policybench.provenance": json.dumps(header).encode()})
        pq.write_table(table, path)
    return path


def cli_import(path: Path, *args: str, name: str = "my-guard", taxonomy: str = "llama-guard-3", suite="smoke"):
    return runner.invoke(app, ["predictions", "import", str(path), "--suite", suite, "--name", name,
                               "--taxonomy", taxonomy, *args])


class Direct:
    """The same scores, given directly (item errors where the import has no row)."""

    def __init__(self, suite, labels, S, taxonomy, missing=()):
        self.name, self.version, self.labels, self.taxonomy = "direct", "1", list(labels), taxonomy
        self.by_text = {e.text: S[i] for i, e in enumerate(suite.examples)}
        self.missing = {suite.examples[i].text for i in missing}

    def predict_with_errors(self, texts):
        out = np.zeros((len(texts), len(self.labels)), np.float32)
        errors = []
        for i, t in enumerate(texts):
            if t in self.missing:
                errors.append("missing")
            else:
                out[i] = self.by_text[t]
                errors.append(None)
        return out, errors

    def predict(self, texts):
        return self.predict_with_errors(texts)[0]


def measured(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics.drop(columns=IDENTITY).sort_values(["policy_version", "category"]).reset_index(drop=True)


def nothing_stored(tmp_path: Path) -> bool:
    """No import folder (not even a temporary one) and no prediction-cache shard."""
    imports = tmp_path / "imports"
    leftovers = list(imports.iterdir()) if imports.exists() else []
    shards = list((tmp_path / "cache").rglob("*.parquet")) if (tmp_path / "cache").exists() else []
    return not leftovers and not shards


OPTS = RunOptions(n_resamples=40, latency_sample=0)


# -- the happy path: three formats ------------------------------------------------------------

@pytest.mark.parametrize("fmt,key,with_text", [("csv", "id", True), ("jsonl", "text", False),
                                               ("parquet", "id", False)])
def test_imported_file_scores_like_the_same_scores_given_directly(tmp_path, smoke, fmt, key, with_text):
    labels, S = noisy_scores(smoke)
    f = write_scores(tmp_path / f"scores.{fmt}", smoke, labels, S, key=key, with_text=with_text)
    r = cli_import(f, "--model-id", "meta-llama/Llama-Guard-3-8B", "--revision", "r1", "--ran-at", "2026-11-20",
                   "--ran-where", "vllm on 1xA100")
    assert r.exit_code == 0, r.output
    assert "imported:my-guard" in r.output

    imported = run_benchmark("smoke", ["imported:my-guard"], POLICIES, options=OPTS)
    direct = run_benchmark("smoke", [Direct(smoke, labels, S, Taxonomy.for_crosswalk("llama-guard-3"))], POLICIES,
                           options=OPTS, cache_root=tmp_path / "direct-cache")
    assert len(imported.metrics) > 0
    pd.testing.assert_frame_equal(measured(imported.metrics), measured(direct.metrics))
    assert set(imported.metrics["classifier"]) == {"imported:my-guard"}  # marked imported in every table

    sha = hashlib.sha256(f.read_bytes()).hexdigest()
    rec = imported.record.classifiers[0]
    assert rec.name == "imported:my-guard" and rec.version == sha[:12]
    assert rec.taxonomy == "crosswalk:llama-guard-3" and rec.labels == labels
    assert rec.endpoint["origin"] == "imported" and rec.endpoint["source_sha256"] == sha
    assert (rec.endpoint["model_id"], rec.endpoint["revision"], rec.endpoint["ran_at"], rec.endpoint["ran_where"]) \
        == ("meta-llama/Llama-Guard-3-8B", "r1", "2026-11-20", "vllm on 1xA100")
    assert rec.endpoint["source_format"] == fmt and rec.endpoint["imported_at"].endswith("Z")
    # the importer committed every row to the prediction store: nothing computed, no latency made up
    assert (rec.n_computed, rec.n_reused, rec.n_errors) == (0, len(smoke), 0)
    assert imported.latency.loc[0, "n_single"] == 0 and math.isnan(imported.latency.loc[0, "throughput_items_per_s"])

    # without the cache the scores are looked up per text: the same numbers
    again = run_benchmark("smoke", ["my-guard"], POLICIES, options=RunOptions(n_resamples=40, latency_sample=0,
                                                                             use_cache=False))
    assert again.record.classifiers[0].n_computed == len(smoke)
    pd.testing.assert_frame_equal(measured(again.metrics), measured(imported.metrics))


def test_lookup_key_is_the_prediction_cache_text_hash():
    for t in ["hello", "", "Grüße — 你好 🙂", "a\nb\tc"]:
        assert lookup_hash(t) == text_hash(t)


def test_the_scores_stored_are_the_files_scores(tmp_path, smoke):
    labels, S = noisy_scores(smoke, seed=3)
    f = write_scores(tmp_path / "s.parquet", smoke, labels, S)
    summary = import_predictions(f, suite="smoke", name="lg", taxonomy="llama-guard-3")
    clf = ImportedPredictions("lg")
    np.testing.assert_array_equal(clf.predict(smoke.texts), S)
    assert summary.n_rows == len(smoke) and summary.missing_ids == [] and summary.labels == labels
    meta = json.loads((tmp_path / "imports" / "lg" / "import.json").read_text())
    assert meta["suite"]["data_hash"] == smoke.data_hash and meta["source_file"] == "s.parquet"


# -- registry -----------------------------------------------------------------------------------

def test_registry_resolves_and_lists_imported_systems(tmp_path, smoke):
    labels, S = noisy_scores(smoke)
    import_predictions(write_scores(tmp_path / "s.csv", smoke, labels, S), suite="smoke", name="my-guard",
                       taxonomy="llama-guard-3", model_id="m")
    by_prefix, plain = get_classifier("imported:my-guard"), get_classifier("my-guard")
    assert isinstance(by_prefix, ImportedPredictions) and isinstance(plain, ImportedPredictions)
    assert plain.name == by_prefix.name == "imported:my-guard" and plain.version == by_prefix.version
    rows = {r["name"]: r for r in list_classifiers()}
    row = rows["imported:my-guard"]
    assert row["origin"] == "imported" and row["available"] and row["taxonomy"] == "crosswalk:llama-guard-3"
    assert rows["keyword-rules"]["origin"] == "builtin"
    with pytest.raises(InputError, match="unknown classifier 'imported:other'"):
        get_classifier("imported:other")
    assert imported_systems() == ["my-guard"]
    r = runner.invoke(app, ["predictions", "list", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[0]["model_id"] == "m"
    r = runner.invoke(app, ["classifiers", "list", "--json"])
    assert any(x["name"] == "imported:my-guard" and x["origin"] == "imported" for x in json.loads(r.output))
    r = runner.invoke(app, ["run", "--suite", "smoke", "-c", "imported:my-guard", "-p", "2023-02-15", "--n-resamples",
                            "20", "--latency-sample", "0", "--out", str(tmp_path / "runs"), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)["summary"]
    assert [row["classifier"] for row in summary] == ["imported:my-guard"] and summary[0]["n_errors"] == 0


def test_a_text_without_a_score_is_an_item_error_never_zero(smoke):
    clf = ImportedPredictions.from_scores("x", {smoke.texts[0]: [0.3]}, labels=["S1"],
                                          taxonomy="crosswalk:llama-guard-3")
    scores, errors = clf.predict_with_errors([smoke.texts[0], "not imported"])
    assert errors[0] is None and errors[1] and "no imported score" in errors[1]
    assert float(scores[0, 0]) == pytest.approx(0.3)
    with pytest.raises(Exception, match="has no scores for 1 of 2 texts"):
        clf.predict([smoke.texts[0], "not imported"])


# -- partial imports ----------------------------------------------------------------------------

def test_missing_examples_listed_and_only_imported_with_allow_missing(tmp_path, smoke):
    labels, S = noisy_scores(smoke)
    drop = [0, 7, 100, 200, 287]
    keep = [i for i in range(len(smoke)) if i not in drop]
    f = write_scores(tmp_path / "partial.csv", smoke, labels, S, rows=keep)
    r = cli_import(f)
    assert r.exit_code == 2
    assert f"5 of {len(smoke)} examples" in r.output and smoke.examples[7].id in r.output
    assert "--allow-missing" in r.output and nothing_stored(tmp_path)

    r = cli_import(f, "--allow-missing", "--json")
    assert r.exit_code == 0, r.output
    assert sorted(json.loads(r.output)["missing_ids"]) == sorted(smoke.examples[i].id for i in drop)
    imported = run_benchmark("smoke", ["imported:my-guard"], POLICIES, options=OPTS)
    assert imported.record.classifiers[0].n_errors == len(drop)
    assert imported.record.classifiers[0].endpoint["n_missing"] == len(drop)
    direct = run_benchmark("smoke", [Direct(smoke, labels, S, Taxonomy.for_crosswalk("llama-guard-3"), drop)],
                           POLICIES, options=OPTS, cache_root=tmp_path / "direct-cache")
    pd.testing.assert_frame_equal(measured(imported.metrics), measured(direct.metrics))
    assert (imported.metrics["n_errors"] == len(drop)).all()


def test_split_only_requires_that_splits_examples(tmp_path):
    core = load_suite("core")
    dev = [i for i, e in enumerate(core.examples) if e.split == "dev"]
    labels, S = ["S1"], np.full((len(core), 1), 0.5, np.float32)
    f = write_scores(tmp_path / "dev.jsonl", core, labels, S, rows=dev)
    assert cli_import(f, suite="core").exit_code == 2
    r = cli_import(f, "--split", "dev", suite="core")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "imports" / "my-guard" / "import.json").read_text())["missing_ids"] == []


# -- taxonomies ---------------------------------------------------------------------------------

def test_custom_crosswalk_file(tmp_path, smoke):
    labels, S = noisy_scores(smoke, CUSTOM_CROSSWALK)
    f = write_scores(tmp_path / "acme.csv", smoke, labels, S)
    r = cli_import(f, name="acme", taxonomy=str(CUSTOM_CROSSWALK))
    assert r.exit_code == 0, r.output
    stored = tmp_path / "imports" / "acme" / "crosswalk.yaml"
    assert stored.read_bytes() == CUSTOM_CROSSWALK.read_bytes()
    imported = run_benchmark("smoke", ["imported:acme"], POLICIES, options=OPTS)
    assert imported.record.classifiers[0].taxonomy == f"crosswalk:{stored}"
    assert imported.record.crosswalks[str(stored)]  # its content hash is in the record
    direct = run_benchmark("smoke", [Direct(smoke, labels, S, Taxonomy.for_crosswalk(str(CUSTOM_CROSSWALK)))],
                           POLICIES, options=OPTS, cache_root=tmp_path / "direct-cache")
    pd.testing.assert_frame_equal(measured(imported.metrics), measured(direct.metrics))
    assert imported.metrics["covered"].any() and not imported.metrics["covered"].all()


def test_aliases_a_subset_of_labels_and_the_known_taxonomies(tmp_path, smoke):
    labels, S = noisy_scores(smoke, "omni-moderation")
    f = write_scores(tmp_path / "omni.jsonl", smoke, ["self_harm", "illicit"], S[:, [labels.index("self-harm"),
                                                                                     labels.index("illicit")]])
    s = import_predictions(f, suite="smoke", name="omni", taxonomy="omni-moderation")
    assert s.labels == ["illicit", "self-harm"]  # canonical keys, in the crosswalk's order
    assert resolve_taxonomy("openai-moderation").taxonomy == "crosswalk:openai-moderation-2023"
    assert resolve_taxonomy("crosswalk:llama-guard-4").keys[0] == "S1"
    assert "payday_lending" in resolve_taxonomy("topics").keys
    assert resolve_taxonomy("policy:2024-01-10").keys == tuple(load_policy_keys("2024-01-10"))
    topics = write_scores(tmp_path / "t.csv", smoke, ["malware", "scams"], S[:, :2])
    assert import_predictions(topics, suite="smoke", name="t", taxonomy="topics").taxonomy == "topics"
    pol = write_scores(tmp_path / "p.csv", smoke, ["adult"], S[:, :1])
    assert import_predictions(pol, suite="smoke", name="p", taxonomy="policy:2024-01-10").labels == ["adult"]
    run = run_benchmark("smoke", ["imported:t", "imported:p", "imported:omni"], ["2024-01-10"], options=OPTS)
    assert set(run.metrics["classifier"]) == {"imported:t", "imported:p", "imported:omni"}


def load_policy_keys(version):
    from harness.policies import load_policy

    return load_policy(version).category_keys


# -- provenance ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_provenance_from_the_header_and_flags_win(tmp_path, smoke, fmt):
    labels, S = noisy_scores(smoke)
    header = {"model_id": "meta-llama/Llama-Guard-3-8B", "revision": "abc", "ran_at": "2026-11-20T14:03:00Z",
              "ran_where": "cluster"}
    f = write_scores(tmp_path / f"h.{fmt}", smoke, labels, S, header=header)
    s = import_predictions(f, suite="smoke", name="h", taxonomy="llama-guard-3", revision="def")
    assert s.provenance == {**header, "revision": "def"}
    assert ImportedPredictions("h").endpoint_info()["model_id"] == "meta-llama/Llama-Guard-3-8B"


def test_the_csv_header_fixture(tmp_path):
    s = import_predictions(FIXTURES / "provenance-header.csv", suite="smoke", name="fx", taxonomy="llama-guard-3",
                           allow_missing=True)
    assert s.provenance["ran_where"] == "vllm 0.6 on 1x A100 (team cluster)" and s.n_rows == 1
    assert s.labels == ["S1", "S2"]


# -- every error: exit 2, file/line/field named, nothing stored ----------------------------------

def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _edit_line(path: Path, lineno: int, old: str, new: str) -> None:
    lines = _lines(path)
    assert old in lines[lineno - 1]
    lines[lineno - 1] = lines[lineno - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def good_csv(tmp_path, smoke):
    """A valid CSV with round scores (line 1 the header, line k+1 the k-th example)."""
    labels = ["S1", "S2", "S3"]
    S = np.tile(np.array([0.25, 0.5, 0.75], np.float32), (len(smoke), 1))
    return write_scores(tmp_path / "scores.csv", smoke, labels, S)


def _fails(tmp_path, r, *expected: str) -> None:
    assert r.exit_code == 2, r.output
    for e in expected:
        assert e in r.output, (e, r.output)
    assert nothing_stored(tmp_path)


def test_score_above_one(tmp_path, good_csv):
    _edit_line(good_csv, 5, ",0.5,", ",1.5,")
    _fails(tmp_path, cli_import(good_csv), "scores.csv, line 5, field 'S2'", "1.5", "outside [0, 1]")


@pytest.mark.parametrize("bad", ["nan", "inf", "", "high"])
def test_nan_infinite_empty_or_text_score(tmp_path, good_csv, bad):
    _edit_line(good_csv, 9, ",0.75", f",{bad}")
    _fails(tmp_path, cli_import(good_csv), "line 9, field 'S3'")


def test_nan_in_jsonl_and_parquet(tmp_path, smoke):
    labels, S = ["S1", "S2"], np.full((len(smoke), 2), 0.5, np.float32)
    S[3, 1] = np.nan
    j = write_scores(tmp_path / "n.jsonl", smoke, labels, S)
    _fails(tmp_path, cli_import(j), "n.jsonl, line 4, field 'S2'", "not a finite number")
    S[3, 1], S[10, 0] = 0.5, -0.1
    p = write_scores(tmp_path / "n.parquet", smoke, labels, S)
    _fails(tmp_path, cli_import(p), "n.parquet, line 11, field 'S1'", "outside [0, 1]")


def test_unknown_label_column(tmp_path, good_csv):
    _edit_line(good_csv, 1, "S3", "S99")
    _fails(tmp_path, cli_import(good_csv), "scores.csv, line 1, field 'S99'", "unknown label column 'S99'",
           "S14")


def test_unknown_label_in_jsonl_names_the_line(tmp_path, smoke):
    f = write_scores(tmp_path / "u.jsonl", smoke, ["S1"], np.full((len(smoke), 1), 0.1, np.float32))
    _edit_line(f, 6, '"S1": 0.1', '"S1": 0.1, "violence": 0.2')
    _fails(tmp_path, cli_import(f), "u.jsonl, line 6, field 'violence'")


def test_duplicate_id(tmp_path, good_csv, smoke):
    lines = _lines(good_csv)
    good_csv.write_text("\n".join(lines + [lines[3]]) + "\n", encoding="utf-8")
    _fails(tmp_path, cli_import(good_csv), f"line {len(lines) + 1}, field 'id'",
           f"duplicate key: example {smoke.examples[2].id!r} already has a row on line 4")


def test_unknown_id_and_wrong_text(tmp_path, smoke):
    labels, S = ["S1"], np.full((len(smoke), 1), 0.1, np.float32)
    f = write_scores(tmp_path / "w.csv", smoke, labels, S, with_text=True)
    _edit_line(f, 2, smoke.examples[0].id, "no-such-example")
    r = cli_import(f)
    _fails(tmp_path, r, "line 2, field 'id'", "'no-such-example' is not an example of suite 'smoke'")
    f = write_scores(tmp_path / "w.csv", smoke, labels, S, with_text=True)
    lines = _lines(f)
    lines[2] = lines[2].replace(smoke.examples[1].text[:10], "XXXXXXXXXX", 1)
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(tmp_path, cli_import(f), "line 3, field 'text'", "differs")


@pytest.mark.parametrize("taxonomy", ["llama-guard-9", "policy:1999-01-01", "missing.yaml"])
def test_bad_taxonomy(tmp_path, good_csv, taxonomy):
    _fails(tmp_path, cli_import(good_csv, taxonomy=taxonomy), "field 'taxonomy'")


def test_a_bad_custom_crosswalk_file(tmp_path, good_csv):
    bad = tmp_path / "bad-crosswalk.yaml"
    bad.write_text(CUSTOM_CROSSWALK.read_text().replace("[malware, hacking_intrusion]", "[malware, no_such_topic]"))
    _fails(tmp_path, cli_import(good_csv, taxonomy=str(bad)), "bad-crosswalk.yaml", "no_such_topic")
    assert not (tmp_path / "imports").exists()


def test_unreadable_files(tmp_path):
    _fails(tmp_path, cli_import(tmp_path / "nope.csv"), "nope.csv", "cannot read the file")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,S1\ncaf\xe9,0.1\n".encode("latin-1"))
    _fails(tmp_path, cli_import(latin), "latin.csv, line 2", "not UTF-8")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    _fails(tmp_path, cli_import(broken), "broken.parquet", "not a readable Parquet file")
    js = tmp_path / "broken.jsonl"
    js.write_text('{"id": "x", "S1": 0.1}\n{"id": \n', encoding="utf-8")
    _fails(tmp_path, cli_import(js), "broken.jsonl, line 2", "not JSON")
    unknown = tmp_path / "scores.txt"
    unknown.write_text("id,S1\n", encoding="utf-8")
    _fails(tmp_path, cli_import(unknown), "--format")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,S1\nx,0.1,0.2\n", encoding="utf-8")
    _fails(tmp_path, cli_import(ragged), "ragged.csv, line 2", "3 fields, the header has 2")


def test_no_key_column_no_rows_bad_provenance_bad_name(tmp_path, smoke):
    f = tmp_path / "k.csv"
    f.write_text("example,S1\nx,0.1\n", encoding="utf-8")
    _fails(tmp_path, cli_import(f), "no key column")
    e = tmp_path / "e.jsonl"
    e.write_text("\n", encoding="utf-8")
    _fails(tmp_path, cli_import(e), "no key column")
    labels, S = ["S1"], np.full((len(smoke), 1), 0.1, np.float32)
    g = write_scores(tmp_path / "g.csv", smoke, labels, S, header={"model": "x"})
    _fails(tmp_path, cli_import(g), "g.csv, line 1, field 'model'", "unknown provenance key")
    g = write_scores(tmp_path / "g.csv", smoke, labels, S)
    _fails(tmp_path, cli_import(g, "--ran-at", "last tuesday"), "field 'ran_at'")
    _fails(tmp_path, cli_import(g, name="my guard"), "field 'name'")


def test_every_problem_reported_at_once(tmp_path, good_csv):
    _edit_line(good_csv, 3, ",0.25,", ",7,")
    _edit_line(good_csv, 8, ",0.75", ",-1")
    r = cli_import(good_csv)
    _fails(tmp_path, r, "line 3, field 'S1'", "line 8, field 'S3'", "2 problems")


def test_a_second_import_of_a_name_needs_replace_and_keeps_the_first(tmp_path, smoke):
    labels, S = noisy_scores(smoke)
    f = write_scores(tmp_path / "a.csv", smoke, labels, S)
    assert cli_import(f).exit_code == 0
    first = get_classifier("imported:my-guard").version
    g = write_scores(tmp_path / "b.csv", smoke, labels, noisy_scores(smoke, seed=9)[1])
    r = cli_import(g)
    assert r.exit_code == 2 and "--replace" in r.output
    assert get_classifier("imported:my-guard").version == first
    bad = write_scores(tmp_path / "c.csv", smoke, labels, S)
    _edit_line(bad, 2, ",", ",2,")  # a broken replacement leaves the first import as it was
    assert cli_import(bad, "--replace").exit_code == 2
    assert get_classifier("imported:my-guard").version == first
    assert cli_import(g, "--replace").exit_code == 0
    assert get_classifier("imported:my-guard").version == hashlib.sha256(g.read_bytes()).hexdigest()[:12] != first
    r = runner.invoke(app, ["predictions", "remove", "my-guard"])
    assert r.exit_code == 0 and imported_systems() == []
    assert runner.invoke(app, ["predictions", "remove", "my-guard"]).exit_code == 2


# -- charted and published like a built-in -----------------------------------------------------

def test_charts_and_leaderboard_of_a_run_with_an_imported_system(tmp_path, smoke):
    from matplotlib.figure import Figure

    from harness.charts import heatmap
    from harness.results.leaderboard import write_leaderboard
    from harness.results.runs import load_run

    labels, S = noisy_scores(smoke)
    import_predictions(write_scores(tmp_path / "s.csv", smoke, labels, S), suite="smoke", name="my-guard",
                       taxonomy="llama-guard-3", model_id="meta-llama/Llama-Guard-3-8B")
    worse = Direct(smoke, labels, noisy_scores(smoke, seed=5)[1] * 0.5, Taxonomy.for_crosswalk("llama-guard-3"))
    res = run_benchmark("smoke", ["imported:my-guard", worse], ["2023-02-15", "2024-01-10"], options=OPTS,
                        out=tmp_path / "runs")
    stored = load_run(res.run_dir)
    assert stored.record.classifiers[0].endpoint["model_id"] == "meta-llama/Llama-Guard-3-8B"
    paths = write_leaderboard(stored, tmp_path / "board", n_resamples=40, baselines=False)
    rows = [r for r in json.loads(Path(paths["json"]).read_text())["rows"] if r["classifier"] == "imported:my-guard"]
    assert rows and any(r["rank"] is not None for r in rows)
    assert "imported:my-guard" in Path(paths["md"]).read_text()
    d = heatmap(stored.metrics, policy="2023-02-15", metric="f1", ax=Figure().subplots())
    assert "imported:my-guard" in d.values.columns
    mine = stored.metrics.query("classifier == 'imported:my-guard' and policy_version == '2023-02-15' and covered")
    for _, r in mine.dropna(subset=["f1"]).iterrows():
        assert d.values.loc[r["category"], "imported:my-guard"] == pytest.approx(r["f1"])


def test_provenance_and_row_problems_reported_together(tmp_path, good_csv):
    _edit_line(good_csv, 4, ",0.25,", ",1.5,")
    r = cli_import(good_csv, "--ran-at", "last tuesday")
    _fails(tmp_path, r, "2 problems", "field 'ran_at'", "line 4, field 'S1'")


def test_a_damaged_import_is_listed_unavailable_and_is_exit_2_when_run(tmp_path, smoke):
    labels, S = noisy_scores(smoke)
    import_predictions(write_scores(tmp_path / "s.csv", smoke, labels, S), suite="smoke", name="dmg",
                       taxonomy="llama-guard-3")
    (tmp_path / "imports" / "dmg" / "import.json").write_text("{not json", encoding="utf-8")
    row = {r["name"]: r for r in list_classifiers()}["imported:dmg"]
    assert row["origin"] == "imported" and not row["available"] and "import.json" in row["unavailable_reason"]
    r = runner.invoke(app, ["run", "--suite", "smoke", "-c", "imported:dmg", "-p", "2023-02-15",
                            "--out", str(tmp_path / "runs")])
    assert r.exit_code == 2 and "cannot read the import record" in r.output
