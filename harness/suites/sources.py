"""Readers for the raw public sources in ``datasets/sources/<name>/``.

Each reader turns a source's files into :class:`SourceRow` s: the normalised text, the
source's own labels, the topics they map to (:mod:`harness.suites.topic_map`), the label and
how the label was obtained. Row references (``source_row``) are stable: the 0-based data row
of a CSV/JSONL/JSON list (prefixed by the file when a source has several), the flat 0-based
index of a nested JSON file, ``<file>:<line>`` (1-based) for curated JSONL.

Which reader a source uses, its name, licence and attribution are data: the folder's
``source.yaml`` (:mod:`harness.suites.source_info`) names a reader registered here with
:func:`reader`.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError, Problem
from harness.paths import sources_dir
from harness.suites.audit_file import load_audit
from harness.suites.normalize import normalize_text
from harness.suites.source_info import SourceInfo, load_source_infos
from harness.suites.topic_map import SourceMap, keyword_topics, known_topics, load_source_map

#: The name of the curated minimal pairs (``datasets/sources/curated/source.yaml``).
CURATED = "policybench-curated"


@dataclass(frozen=True)
class SourceRow:
    """One candidate example read from a source, before de-duplication and splitting."""

    source: str
    source_row: str
    text: str
    source_labels: tuple[str, ...]
    topics: tuple[str, ...]
    label: str
    label_provenance: str
    license: str
    subset: str = ""      # which part of the source (e.g. "frr", "contrast"); used to pick suites
    group_hint: str = ""  # rows sharing a hint stay in one split (templates, scenarios, pairs)
    pair_id: str = ""     # the minimal pair (curated pairs only)
    form: str = ""        # the pair's shared speech act
    contrast: str = ""    # what makes the pair's benign twin allowed
    review: str = "source_label"  # how the label was checked (see harness.suites.schema.REVIEWS)


#: A source reader: (folder, its topic map or None, its source.yaml) → rows (None: a row dropped).
Reader = Callable[[Path, Any, SourceInfo], Iterator["SourceRow | None"]]

#: Registered readers by name: a ``source.yaml`` names its reader (``reader: hatecheck``).
READERS: dict[str, Reader] = {}


def reader(name: str) -> Callable[[Reader], Reader]:
    """Register a source reader under ``name`` (the ``reader`` of a ``source.yaml``)."""
    def register(func: Reader) -> Reader:
        if name in READERS:
            raise ValueError(f"reader {name!r} is registered twice")
        READERS[name] = func
        return func
    return register


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _row(info: SourceInfo, ref: str, text: str, labels: tuple[str, ...], topics: list[str], label: str,
         provenance: str = "source_label", subset: str = "", hint: str = "") -> SourceRow | None:
    text = normalize_text(text)
    if not text or (label == "unsafe" and not topics):
        return None
    return SourceRow(info.name, ref, text, labels, tuple(topics), label, provenance, info.license, subset, hint)


@reader("forbidden_question_set")
def read_forbidden_question_set(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "forbidden_question_set.csv")):
        lab = r["content_policy_name"]
        yield _row(info, str(i), r["question"], (lab,), m.topics(lab, r["question"]), "unsafe")


@reader("catqa")
def read_catqa(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    data = json.loads((d / "catqa_english.json").read_text(encoding="utf-8"))
    i = 0
    for cat, subs in data.items():
        for sub, questions in subs.items():
            lab = f"{cat}/{sub.rstrip(':').strip()}"
            for q in questions:
                yield _row(info, str(i), q, (cat, sub.rstrip(":")), m.topics(lab, q), "unsafe")
                i += 1


@reader("jailbreakbench")
def read_jailbreakbench(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "jailbreakbench.csv")):
        topics = m.topics(r["Category"], r["Goal"], override_key=r["Behavior"])
        yield _row(info, str(i), r["Goal"], (r["Category"], r["Behavior"]), topics, "unsafe")


@reader("harmbench")
def read_harmbench(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for part in ("test", "val"):
        for i, r in enumerate(_csv_rows(d / f"harmbench_{part}.csv")):
            text = r["Behavior"]
            if r["FunctionalCategory"] == "contextual" and r["ContextString"].strip():
                text = r["ContextString"] + "\n\n" + r["Behavior"]
            lab = r["SemanticCategory"]
            yield _row(info, f"{part}:{i}", text, (lab, r["FunctionalCategory"]), m.topics(lab, text), "unsafe")


@reader("strongreject")
def read_strongreject(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "strongreject.csv")):
        lab = r["category"]
        yield _row(info, str(i), r["forbidden_prompt"], (lab,), m.topics(lab, r["forbidden_prompt"]), "unsafe")


@reader("ailuminate")
def read_ailuminate(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "airr_official_1.0_demo_en_us_prompt_set_release.csv")):
        hz = r["hazard"]
        # spc_* hazards are contextual: the prompt is often an ordinary question and the hazard
        # lies in an unqualified answer, so the row is kept with its topic but not labelled.
        label = "unknown" if hz.startswith("spc_") else "unsafe"
        yield _row(info, str(i), r["prompt_text"], (hz, r["persona"]), m.topics(hz, r["prompt_text"]), label)


@reader("coconot")
def read_coconot(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for part, fname in (("eval", "coconot_eval.jsonl"), ("contrast", "coconot_contrast_eval.jsonl"),
                        ("pref", "coconot_pref.jsonl")):
        for i, r in enumerate(_jsonl(d / fname)):
            labels = (r["category"], r["subcategory"])
            if r["category"] != "Requests with safety concerns":
                yield _row(info, f"{part}:{i}", r["prompt"], labels, [], "benign", subset=f"{part}-generic")
                continue
            label = "unsafe" if part == "eval" else "benign"
            topics = m.topics(f"{label}:{r['subcategory']}", r["prompt"])
            yield _row(info, f"{part}:{i}", r["prompt"], labels, topics, label, subset=part)


@reader("hatecheck")
def read_hatecheck(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "test_suite_cases.csv")):
        func = r["functionality"]
        topics = m.topics(func if func in m.labels else "*", r["test_case"])
        if r["direction"] == "directed" and "harassment" not in topics:
            topics.append("harassment")
        label = {"hateful": "unsafe", "non-hateful": "benign"}[r["label_gold"]]
        hint = r["ref_templ_id"] or r["templ_id"]
        yield _row(info, str(i), r["test_case"], (func, r["target_ident"]), topics, label,
                   hint=f"templ:{hint}" if hint else "")


@reader("toxigen")
def read_toxigen(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "toxigen_seed_sentences_unique.csv")):
        label = {"hate": "unsafe", "neutral": "benign"}[r["label"]]
        yield _row(info, str(i), r["text"], (r["label"], r["target_group"]), m.topics(r["label"], r["text"]), label)


@reader("cyberseceval")
def read_cyberseceval(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    mitre = json.loads((d / "mitre_benchmark_100_per_category.json").read_text(encoding="utf-8"))
    for i, r in enumerate(mitre):
        if not r.get("user_prompt"):
            continue  # 23 upstream objects have no prompt
        yield _row(info, f"mitre:{i}", r["user_prompt"], (r["category"],), m.topics(r["category"], r["user_prompt"]),
                   "unsafe", subset="mitre")
    frr = json.loads((d / "mitre_frr.json").read_text(encoding="utf-8"))
    for i, r in enumerate(frr):
        yield _row(info, f"frr:{i}", r["mutated_prompt"], ("frr",), m.topics("frr", r["mutated_prompt"]),
                   "benign", subset="frr")


@reader("safetext")
def read_safetext(d: Path, m: SourceMap, info: SourceInfo) -> Iterator[SourceRow | None]:
    data = json.loads((d / "SafeText.json").read_text(encoding="utf-8"))
    i = 0
    for s, (scenario, advice) in enumerate(data.items()):
        for kind in ("unsafe", "safe"):
            for a in advice.get(kind, []):
                label = "unsafe" if kind == "unsafe" else "benign"
                yield _row(info, str(i), f"{scenario} {a}", (kind,), m.topics(kind, a), label, hint=f"scenario:{s}")
                i += 1


@reader("advbench")
def read_advbench(d: Path, m: SourceMap | None, info: SourceInfo) -> Iterator[SourceRow | None]:
    for i, r in enumerate(_csv_rows(d / "advbench.csv")):
        yield _row(info, str(i), r["goal"], (), keyword_topics(r["goal"]), "unsafe", provenance="mapped")


#: HarmfulQA questions that are not requests to do harm (history questions, safety, recovery):
#: the keyword mapper would give them a harmful topic, so they are dropped.
_NOT_A_HARMFUL_REQUEST = re.compile(
    r"^(did|was|were|is|are|why did|who|when)\b|\b(safely|protect(ing)? (myself|yourself|oneself|against|from)"
    r"|prevent\w*|defend against|detect\w*|recover\w* from|treat\w* (\w+ )?addiction|cope with|support (a|someone))\b",
    re.IGNORECASE)


@reader("harmfulqa")
def read_harmfulqa(d: Path, m: SourceMap | None, info: SourceInfo) -> Iterator[SourceRow | None]:
    data = json.loads((d / "harmfulqa.json").read_text(encoding="utf-8"))
    i = 0
    for topic, subs in data.items():
        for sub, questions in subs.items():
            for q in questions:
                # rows the keywords cannot map are dropped (_row returns None for no topics)
                topics = [] if _NOT_A_HARMFUL_REQUEST.search(q) else keyword_topics(q)
                yield _row(info, str(i), q, (topic, sub), topics, "unsafe", provenance="mapped")
                i += 1


#: Speech acts and contrast devices a minimal pair may declare (``form`` and ``contrast``).
PAIR_FORMS = frozenset({"imperative", "first_person_request", "question", "statement", "long_context",
                        "casual", "roleplay", "code_request", "third_person"})
PAIR_CONTRASTS = frozenset({"general_info", "fiction", "education", "self_protection", "safe_target", "homonym",
                            "non_targeted", "low_volume", "lawful_version", "help_seeking", "consent", "fact_check",
                            "professional_review", "history", "other"})
PAIR_FIELDS = frozenset({"pair_id", "topics", "form", "contrast", "unsafe", "benign", "note"})
#: The twins' lengths in words may differ by at most this share of the unsafe text's length (+1 word).
PAIR_LENGTH_TOLERANCE = 0.30


def _pair_problems(obj: object, topics_ok: frozenset[str], where: dict) -> list[Problem]:
    if not isinstance(obj, dict):
        return [Problem("expected a JSON object", **where)]
    out = [Problem("missing", field=f, **where) for f in sorted(PAIR_FIELDS - {"note"} - set(obj))]
    out += [Problem("unknown field", field=f, **where) for f in sorted(set(obj) - PAIR_FIELDS)]
    if out:
        return out
    topics = obj["topics"]
    if not isinstance(topics, list) or not topics or any(t not in topics_ok for t in topics):
        out.append(Problem(f"missing or unknown topics {topics!r}", field="topics", **where))
    if obj["form"] not in PAIR_FORMS:
        out.append(Problem(f"form {obj['form']!r} is not one of {sorted(PAIR_FORMS)}", field="form", **where))
    if obj["contrast"] not in PAIR_CONTRASTS:
        out.append(Problem(f"contrast {obj['contrast']!r} is not one of {sorted(PAIR_CONTRASTS)}",
                           field="contrast", **where))
    for key in ("pair_id", "unsafe", "benign"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            out.append(Problem("empty or not a string", field=key, **where))
    if not out:
        wu, wb = len(obj["unsafe"].split()), len(obj["benign"].split())
        if abs(wb - wu) > PAIR_LENGTH_TOLERANCE * wu + 1:
            out.append(Problem(f"the twins differ in length too much ({wu} vs {wb} words; at most "
                               f"{PAIR_LENGTH_TOLERANCE:.0%})", field="benign", **where))
    return out


@reader("curated")
def read_curated(d: Path, m: SourceMap | None, info: SourceInfo) -> Iterator[SourceRow | None]:
    """Minimal pairs in ``curated/pairs/*.jsonl``, two rows per pair (see ``curated/SOURCE.md``).

    Each line is ``{"pair_id", "topics", "form", "contrast", "unsafe", "benign", "note"?}``; both
    twins carry the pair's topics and ``group_hint = "pair:<pair_id>"``, so a pair never crosses
    splits. ``curated/legacy/`` (single rows written before the pairs) is not read.
    """
    topics_ok = frozenset(known_topics())
    problems: list[Problem] = []
    rows: list[SourceRow] = []
    seen: dict[str, str] = {}
    for path in sorted((d / "pairs").glob("*.jsonl")):
        for lineno, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not raw.strip():
                continue
            where: dict[str, Any] = dict(file=str(path), line=lineno)
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems.append(Problem(f"not a UTF-8 JSON object: {exc}", **where))
                continue
            found = _pair_problems(obj, topics_ok, where)
            if not found and obj["pair_id"] in seen:
                found = [Problem(f"pair_id {obj['pair_id']!r} repeats ({seen[obj['pair_id']]})", field="pair_id",
                                 **where)]
            if found:
                problems += found
                continue
            pid = obj["pair_id"]
            seen[pid] = f"{path.name}:{lineno}"
            topics = list(dict.fromkeys(obj["topics"]))
            for label in ("unsafe", "benign"):
                r = _row(info, f"{path.stem}:{lineno}:{label}", obj[label], (path.stem,), topics, label,
                         provenance="curated", subset="pair", hint=f"pair:{pid}")
                if r is not None:
                    rows.append(replace(r, pair_id=pid, form=obj["form"], contrast=obj["contrast"],
                                        review="curated_second_reading"))
    if problems:
        raise InputError(problems)
    yield from rows


def source_infos(sources_root: Path | None = None) -> dict[str, SourceInfo]:
    """Every source declared under ``sources_root`` (default ``datasets/sources``), by name.

    Examples
    --------
    >>> infos = source_infos()
    >>> infos["hatecheck"].license, infos[CURATED].folder.name
    ('CC-BY-4.0', 'curated')
    """
    return load_source_infos(Path(sources_root) if sources_root is not None else sources_dir(), READERS)


def read_source(name: str, sources_root: Path | None = None, *,
                infos: dict[str, SourceInfo] | None = None) -> tuple[list[SourceRow], int]:
    """Read one source; returns its rows and how many raw rows were dropped (empty / unmappable).

    The source is found by the ``name`` of its ``source.yaml`` under ``sources_root`` (or in
    ``infos``, as returned by :func:`source_infos`).
    """
    infos = infos if infos is not None else source_infos(sources_root)
    if name not in infos:
        raise InputError(Problem(f"no source named {name!r} (no source.yaml declares it); sources: "
                                 f"{', '.join(infos) or '(none)'}", field="source"))
    info = infos[name]
    folder = info.folder
    if folder is None:  # source_infos() always sets it; a hand-made SourceInfo may not
        raise InputError(Problem(f"source {name!r} has no folder", field="source"))
    map_path = folder / "topic_map.yaml"
    smap = load_source_map(map_path) if map_path.is_file() else None
    rows, dropped = [], 0
    try:
        for r in READERS[info.reader](folder, smap, info):
            if r is None:
                dropped += 1
            else:
                rows.append(r)
    except (KeyError, ValueError) as exc:
        raise InputError(Problem(f"cannot read source: {exc!r}", file=str(folder))) from exc
    audit_path = folder / "audit.yaml"
    if audit_path.is_file():
        audit = load_audit(audit_path)
        kept = []
        for r in rows:
            r = audit.apply(r)
            if r is None:
                dropped += 1
            else:
                kept.append(r)
        audit.check_all_used()
        rows = kept
    return rows, dropped
