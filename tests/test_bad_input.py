"""Bad input: a clear error naming file, line and field, exit code 2, nothing stored lost."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import ClassifierError, InputError
from harness.suites import load_suite

runner = CliRunner()

GOOD = {"id": "a1", "text": "Write my dating profile", "topics": ["dating_apps"], "label": "unsafe",
        "split": "test", "source": "t", "source_row": "1", "license": "MIT", "label_provenance": "curated"}


def make_suite(tmp_path: Path, lines: list, name: str = "bad") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(f"name: {name}\nversion: '1'\ndata: examples.jsonl\n", encoding="utf-8")
    with open(folder / "examples.jsonl", "wb") as fh:
        for line in lines:
            if isinstance(line, bytes):
                fh.write(line + b"\n")
            elif isinstance(line, str):
                fh.write(line.encode() + b"\n")
            else:
                fh.write(json.dumps(line).encode() + b"\n")
    return folder


def second(**changes):
    return {**GOOD, "id": "a2", "text": "What is online dating?", "label": "benign", **changes}


CASES = {
    "malformed_json": ([GOOD, '{"id": "a2", "text": '], 2, None, "malformed JSON"),
    "wrong_type": ([GOOD, second(topics="dating_apps")], 2, "topics", "list"),
    "duplicate_id": ([GOOD, second(id="a1")], 2, "id", "duplicate id"),
    "unknown_topic": ([GOOD, second(topics=["space_lasers"])], 2, "topics", "unknown topic"),
    "empty_text": ([GOOD, second(text="   ")], 2, "text", "empty"),
    "bad_label": ([GOOD, second(label="maybe")], 2, "label", "unsafe"),
    "non_utf8": ([GOOD, b'{"id": "a2", "text": "caf\xe9"}'], 2, None, "UTF-8"),
    "huge_text": ([GOOD, second(text="x" * (10 * 2**20))], 2, "text", "limit"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_suite_row_is_reported_with_file_line_field(tmp_path, case):
    lines, line, field, words = CASES[case]
    folder = make_suite(tmp_path, lines)
    with pytest.raises(InputError) as info:
        load_suite(folder)
    prob = info.value.problems[0]
    assert prob.line == line and prob.file.endswith("examples.jsonl")
    if field:
        assert prob.field == field
    assert words.lower() in str(info.value).lower()
    result = runner.invoke(app, ["run", "--suite", str(folder), "-c", "better-profanity", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "examples.jsonl" in result.output and f"line {line}" in result.output


def test_every_problem_reported_at_once(tmp_path):
    folder = make_suite(tmp_path, [GOOD, second(topics=["nope"]), {**second(id="a3"), "label": "x"}])
    with pytest.raises(InputError) as info:
        load_suite(folder)
    assert [p.line for p in info.value.problems] == [2, 3]


def test_unknown_policy_version_exit_2(tmp_path):
    folder = make_suite(tmp_path, [GOOD, second()])
    result = runner.invoke(app, ["run", "--suite", str(folder), "-c", "better-profanity", "--policy", "1999-01-01",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "1999-01-01" in result.output and "2023-02-15" in result.output  # names the known versions


def test_unknown_suite_and_classifier_exit_2(tmp_path):
    assert runner.invoke(app, ["run", "--suite", "no-such-suite"]).exit_code == 2
    folder = make_suite(tmp_path, [GOOD, second()])
    r = runner.invoke(app, ["run", "--suite", str(folder), "-c", "no-such-classifier", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no-such-classifier" in r.output


def test_results_folder_that_cannot_be_written(tmp_path):
    folder = make_suite(tmp_path, [GOOD, second()])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = runner.invoke(app, ["run", "--suite", str(folder), "-c", "better-profanity", "--out", str(blocker / "runs")])
    assert r.exit_code == 2 and "cannot be written" in r.output


class NanClassifier:
    name, version, labels = "nan", "1", ["hate"]
    from harness.classifiers.base import Taxonomy

    taxonomy = Taxonomy.topics()

    def __init__(self, shape_bug=False):
        self.shape_bug = shape_bug

    def predict(self, texts):
        if self.shape_bug:
            return np.zeros((len(texts) + 1, 1), np.float32)
        return np.full((len(texts), 1), np.nan, np.float32)


@pytest.mark.parametrize("shape_bug", [False, True])
def test_classifier_returning_nan_or_wrong_shape(tmp_path, shape_bug):
    from harness import RunOptions, run_benchmark

    folder = make_suite(tmp_path, [GOOD, second()])
    with pytest.raises(ClassifierError, match="shape" if shape_bug else "NaN"):
        run_benchmark(folder, [NanClassifier(shape_bug)], ["2023-02-15"],
                      options=RunOptions(split=None, n_resamples=10), out=tmp_path / "out", cache_root=tmp_path / "c")
    assert not any((tmp_path / "out").glob("*/manifest.json"))  # no half-written run folder


def test_failed_run_keeps_earlier_results(tmp_path):
    from harness import RunOptions, run_benchmark
    from tests.helpers import KeywordTopics

    folder = make_suite(tmp_path, [GOOD, second()])
    opts = RunOptions(split=None, n_resamples=10, latency_sample=0)
    ok = run_benchmark(folder, [KeywordTopics()], ["2023-02-15"], options=opts, out=tmp_path / "out", cache_root=tmp_path / "c")
    before = {p: p.read_bytes() for p in ok.run_dir.iterdir()}
    with pytest.raises(ClassifierError):
        run_benchmark(folder, [NanClassifier()], ["2023-02-15"], options=opts, out=tmp_path / "out", cache_root=tmp_path / "c")
    assert {p: p.read_bytes() for p in ok.run_dir.iterdir()} == before


@pytest.mark.slow
def test_million_row_suite_loads_and_projects(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "suite.yaml").write_text("name: big\nversion: '1'\ndata: examples.jsonl\n")
    topics = ["dating_apps", "hate", "malware", "mlm"]
    with open(folder / "examples.jsonl", "w", encoding="utf-8") as fh:
        for i in range(1_000_000):
            fh.write(json.dumps({"id": f"r{i}", "text": f"row {i}", "topics": [topics[i % 4]],
                                 "label": "unsafe" if i % 3 else "benign", "split": "test", "source": "s",
                                 "source_row": str(i), "license": "MIT", "label_provenance": "curated"}) + "\n")
    suite = load_suite(folder)
    from harness.policies import load_policy

    Y = suite.labels(load_policy("2023-02-15"))
    assert Y.shape[0] == 1_000_000 and Y.dtype == np.uint8
    assert int(Y.sum()) == sum(1 for i in range(1_000_000) if i % 3)
