"""Every YAML data file goes through one strict loader: no alias bombs, bounded depth, UTF-8 only."""

from __future__ import annotations

import shutil

import pytest

from harness._yaml import read_yaml
from harness.errors import InputError
from harness.paths import sources_dir
from harness.suites import load_suite
from harness.suites.sources import read_source

BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]) + "\n"


def _suite_folder(tmp_path, card: str):
    folder = tmp_path / "s"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_bytes(card.encode("utf-8") if isinstance(card, str) else card)
    (folder / "examples.jsonl").write_text("")
    return folder


def test_alias_bomb_in_a_suite_card_is_a_clear_error(tmp_path):
    assert len(BOMB) < 400  # expands to 9^9 (387 million) leaves with a plain SafeLoader
    with pytest.raises(InputError) as exc:
        load_suite(_suite_folder(tmp_path, "name: s\nversion: 1.0.0\n" + BOMB))
    p = exc.value.problems[0]
    assert "aliases" in p.message and p.file.endswith("suite.yaml") and p.line == 4


def test_deep_nesting_and_non_utf8_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="nested deeper than 64"):
        load_suite(_suite_folder(tmp_path, "name: s\nversion: 1.0.0\nx: " + "[" * 200 + "]" * 200 + "\n"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_suite(_suite_folder(tmp_path / "b", b"name: s\nversion: 1.0.0\nd: \xff\xfe\n"))


def test_policy_and_audit_files_reject_aliases(tmp_path):
    pol = tmp_path / "p.yaml"
    pol.write_text("id: x\n" + BOMB)
    with pytest.raises(InputError, match="aliases"):
        read_yaml(pol)
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "cyberseceval", root / "cyberseceval")
    (root / "cyberseceval" / "audit.yaml").write_text("format_version: 1\nsource: cyberseceval\n" + BOMB)
    with pytest.raises(InputError, match="aliases"):
        read_source("cyberseceval", root)


def test_rule_pack_rejects_aliases(tmp_path):
    from harness.classifiers.rules.pack import load_pack

    pack = tmp_path / "pack.yaml"
    pack.write_text("policy_version: x\n" + BOMB)
    with pytest.raises(InputError, match="aliases") as exc:
        load_pack(pack)
    assert exc.value.problems[0].file == str(pack) and exc.value.problems[0].line == 3


def test_one_yaml_reader_for_every_data_file():
    """Only harness/_yaml.py parses YAML; everything else goes through it (strict, line-mapped)."""
    import re
    from pathlib import Path

    import harness

    root = Path(harness.__file__).parent
    parsing = re.compile(r"yaml\.(safe_load|load|full_load|compose|Loader|SafeLoader)\b")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "_yaml.py" and parsing.search(p.read_text(encoding="utf-8"))]
    assert offenders == []



def test_cached_load_parses_again_only_when_the_file_changes(tmp_path):
    from harness._yaml import cached_load, load_file

    calls = []

    def parse(path):
        calls.append(path)
        data = load_file(path)
        if data == "bad":
            raise InputError("bad")
        return data

    f = tmp_path / "x.yaml"
    f.write_text("a: 1\n")
    first = cached_load(f, parse)
    assert cached_load(f, parse) is first and len(calls) == 1
    f.write_text("bad\n")  # another size: parsed again, and the error is not cached
    for _ in range(2):
        with pytest.raises(InputError, match="bad"):
            cached_load(f, parse)
    assert len(calls) == 3
    f.write_text("a: 2\n")
    assert cached_load(f, parse) == {"a": 2}
    with pytest.raises(InputError, match="policy file not found") as exc:
        cached_load(tmp_path / "missing.yaml", parse, what="policy file")
    assert exc.value.problems[0].file == str(tmp_path / "missing.yaml")
