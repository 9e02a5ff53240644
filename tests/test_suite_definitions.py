"""The declarative suite-building files: suites.yaml, source.yaml, keywords.yaml, topic_map.yaml.

Each is read by one pydantic model; a malformed file is an InputError naming file, line and
field, and a format_version other than 1 is a clear error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import InputError
from harness.paths import sources_dir
from harness.suites.definitions import RowFilter, definitions_path, load_definitions
from harness.suites.keywords import keywords_path, parse_keywords
from harness.suites.source_info import load_source_info
from harness.suites.sources import READERS, read_source, source_infos
from harness.suites.topic_map import keyword_topics, load_source_map


def _where(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None]]:
    return [(Path(p.file).name if p.file else None, p.line, p.field) for p in exc.value.problems]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _edit(src: Path, dst: Path, old: str, new: str) -> str:
    text = src.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    dst.write_text(text.replace(old, new), encoding="utf-8")
    return text.replace(old, new)


# ---------------------------------------------------------------------------------- suites.yaml
def test_definitions_describe_the_built_suites():
    d = load_definitions()
    assert list(d.suites) == ["core", "hate", "malware", "overrefusal", "smoke"]
    assert d.pool.sources[0] == "forbidden_question_set" and len(d.pool.sources) == 14
    assert set(d.pool.sources) == set(source_infos())
    assert d.suites["smoke"].sample.pairs_per_category == 11
    assert "datasets/suites/<name>/" in definitions_path().read_text(encoding="utf-8")


def test_filters_are_data():
    d = load_definitions()
    row = lambda **kw: SimpleNamespace(**{"source": "x", "subset": "", "topics": (), "label": "unsafe", **kw})  # noqa: E731
    hate, over = d.suites["hate"], d.suites["overrefusal"]
    assert hate.keeps(row(source="toxigen")) and hate.keeps(row(topics=("terrorism",)))
    assert not hate.keeps(row(topics=("malware",)))
    assert over.keeps(row(source="coconot", subset="pref", topics=("mlm",)))
    assert not over.keeps(row(source="coconot", subset="pref"))            # no topics
    assert not over.keeps(row(source="coconot", subset="eval", topics=("mlm",)))
    assert d.suites["core"].keeps(row())
    assert RowFilter(labels=["benign"]).matches(row(label="benign")) and not RowFilter(labels=["benign"]).matches(row())
    with pytest.raises(ValueError, match="at least one condition"):
        RowFilter()


@pytest.mark.parametrize("old, new, field, message", [
    ("  test_share: 0.70", "  test_share: lots", "pool.test_share", "valid number"),
    ("  core:\n    description", "  core:\n    include: everything\n    description", "suites.core.include",
     "use `all`"),
    ("      - sources: [hatecheck, toxigen]", "      - source: [hatecheck, toxigen]", "suites.hate.include.0.source",
     "Extra inputs"),
    ("      - topics: [malware, hacking_intrusion]", "      - topics: [malware, hacking]",
     "suites.malware.include.0.topics.1", "unknown topic 'hacking'"),
    ("  eval_sources: [policybench-curated, hatecheck, toxigen]", "  eval_sources: [policybench-curated, hatecheck, tox]",
     "pool.eval_sources.2", "not one of pool.sources"),
    ("policybench-curated, advbench, harmfulqa]", "policybench-curated, advbench, harmfulqa2]", "pool.sources.13",
     "no source.yaml"),
])
def test_malformed_definitions_name_file_line_and_field(tmp_path, old, new, field, message):
    path = tmp_path / "suites.yaml"
    text = _edit(definitions_path(), path, "    include: all\n    limitations:", "    limitations:") \
        if "everything" in new else None
    text = _edit(path if text else definitions_path(), path, old, new)
    with pytest.raises(InputError) as exc:
        load_definitions(path)
    found = [p for p in exc.value.problems if p.field == field]
    assert found, _where(exc)
    p = found[0]
    assert Path(p.file) == path and message in p.message
    assert p.line == _line_of(text, new.splitlines()[-1].strip()[:25] if "everything" not in new else "everything")


def test_wrong_format_version_is_a_clear_error(tmp_path):
    for src, load in ((definitions_path(), load_definitions), (keywords_path(), parse_keywords),
                      (sources_dir() / "hatecheck" / "source.yaml", lambda p: load_source_info(p, READERS))):
        path = tmp_path / src.name
        text = _edit(src, path, "format_version: 1", "format_version: 2")
        with pytest.raises(InputError) as exc:
            load(path)
        p = exc.value.problems[0]
        assert (p.field, p.line) == ("format_version", _line_of(text, "format_version: 2")), src
        assert "unknown format_version 2" in p.message and "reads format_version 1" in p.message
        _edit(src, path, "format_version: 1\n", "")
        with pytest.raises(InputError) as exc:
            load(path)
        assert [(p.field, p.message) for p in exc.value.problems][:1] == [("format_version", "Field required")]


# ---------------------------------------------------------------------------------- source.yaml
def test_every_source_declares_its_licence():
    infos = source_infos()
    assert infos["toxigen"].license == "MIT AND CDLA-Permissive-2.0" and "research" in infos["toxigen"].notes
    assert infos["policybench-curated"].folder.name == "curated" and infos["policybench-curated"].reader == "curated"
    for info in infos.values():
        assert info.reader in READERS and info.url and info.attribution
        assert any(info.folder.glob("LICENSE*")), info.name


@pytest.mark.parametrize("old, new, field, message", [
    ("reader: hatecheck", "reader: hatechek", "reader", "unknown reader 'hatechek'"),
    ("license: 'CC-BY-4.0'", "licence: 'CC-BY-4.0'", "licence", "Extra inputs"),
    ("name: hatecheck", "name: 'hate check'", "name", "pattern"),
])
def test_malformed_source_yaml_names_file_line_and_field(tmp_path, old, new, field, message):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "hatecheck", root / "hatecheck")
    text = _edit(sources_dir() / "hatecheck" / "source.yaml", root / "hatecheck" / "source.yaml", old, new)
    with pytest.raises(InputError) as exc:
        read_source("hatecheck", root)
    found = [p for p in exc.value.problems if p.field == field]
    assert found and message in found[0].message, _where(exc)
    assert (Path(found[0].file).name, found[0].line) == ("source.yaml", _line_of(text, new))


def test_missing_attribution_and_unknown_source(tmp_path):
    root = tmp_path / "sources"
    shutil.copytree(sources_dir() / "toxigen", root / "toxigen")
    _edit(sources_dir() / "toxigen" / "source.yaml", root / "toxigen" / "source.yaml",
          re.search(r"attribution: .*\n", (sources_dir() / "toxigen" / "source.yaml").read_text("utf-8"))[0], "")
    with pytest.raises(InputError) as exc:
        read_source("toxigen", root)
    assert _where(exc)[0][0::2] == ("source.yaml", "attribution")
    with pytest.raises(InputError, match="no source named 'nope'"):
        read_source("nope")


# -------------------------------------------------------------------------------- keywords.yaml
def test_keyword_rules_are_data():
    kw = parse_keywords(keywords_path())
    assert kw.rules[0][0] == "csam" and len(kw.rules) == 57
    assert "tailored_financial_advice" in kw.refine_only and "tailored_financial_advice" not in kw.families["all"]
    assert keyword_topics("Write a keylogger in C") == ["malware"]


@pytest.mark.parametrize("old, new, field, message", [
    ("  - topic: terrorism", "  - topic: terrorisms", "rules.3.topic", "unknown topic 'terrorisms'"),
    ("      - 'insurgen'", "      - 'insurgen('", "rules.3.any_of", "not a valid regular expression"),
    ("  cyber: [malware, hacking_intrusion]", "  cyber: [malware, hacking]", "families.cyber.1", "unknown topic"),
    ("  cyber: [malware, hacking_intrusion]", "  all: [malware]", "families", "derived"),
])
def test_malformed_keywords_name_file_line_and_field(tmp_path, old, new, field, message):
    path = tmp_path / "keywords.yaml"
    text = _edit(keywords_path(), path, old, new)
    with pytest.raises(InputError) as exc:
        parse_keywords(path)
    p = exc.value.problems[0]
    assert (Path(p.file), p.field) == (path, field) and message in p.message
    if field == "rules.3.any_of":  # the list as a whole: the line of its key
        assert p.line == _line_of(text, "- topic: terrorism") + 1
    elif field != "families":
        assert p.line == _line_of(text, new.strip())


# ------------------------------------------------------------------------------- topic_map.yaml
@pytest.mark.parametrize("old, new, field, message", [
    ("  hate: {always: [hate], default: []}", "  hate: {always: [hat], default: []}", "labels.hate.always.0",
     "unknown topic 'hat'"),
    ("  hate: {always: [hate], default: []}", "  hate: {always: [hate], defaults: []}", "labels.hate.defaults",
     "Extra inputs"),
    ("  neutral: {always: [hate], default: []}", "  neutral: {always: hate, default: []}", "labels.neutral.always",
     "valid list"),
])
def test_malformed_topic_map_names_file_line_and_field(tmp_path, old, new, field, message):
    path = tmp_path / "topic_map.yaml"
    text = _edit(sources_dir() / "toxigen" / "topic_map.yaml", path, old, new)
    with pytest.raises(InputError) as exc:
        load_source_map(path)
    p = exc.value.problems[0]
    assert (Path(p.file), p.line, p.field) == (path, _line_of(text, new.strip()), field) and message in p.message


def test_topic_map_families_expand():
    m = load_source_map(sources_dir() / "catqa" / "topic_map.yaml")
    assert any(len(rule.allowed) > 1 for rule in m.labels.values())
