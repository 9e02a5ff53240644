"""The ``policybench`` command line: thin wrappers over the library (typer)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, List, Literal, Optional

import typer
from rich.console import Console
from rich.table import Table

from harness.errors import PolicyBenchError
from harness.options import DEFAULT_SUITE, ENV_DEADLINE, ENV_MAX_ATTEMPTS, ENV_TIMEOUT, RequestOptions, RunOptions
from harness.policies.model import REFERENCE_VERSION

_D = RunOptions()  # the run defaults, defined once in harness.options
_R = RequestOptions()  # the hosted request defaults, likewise

app = typer.Typer(add_completion=False, no_args_is_help=False, help=(
    "PolicyBench: which classifier or rule engine enforces a content policy best, at what "
    "latency, and how does that change when the policy changes?"))
policies_app = typer.Typer(help="Policy versions as data: list, show, diff; your own: new, validate.",
                           no_args_is_help=True)
suites_app = typer.Typer(help="Test suites: list, show, audit, build, import.", no_args_is_help=True)
classifiers_app = typer.Typer(help="The classifiers under test: list, train.", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
app.add_typer(suites_app, name="suites")
app.add_typer(classifiers_app, name="classifiers")
runs_app = typer.Typer(help="Stored runs: list, show, compare.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

#: Piped output is never hard-wrapped (a path or a name stays on one line): wide and soft-wrapped when
#: the stream is not a terminal; a terminal gets rich's own width.
_PIPE_WIDTH = 10_000
out = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPE_WIDTH, soft_wrap=not sys.stderr.isatty())

#: Options that take one of a few values are choices (listed in --help, checked before anything runs);
#: the values are harness.options.SPLITS (+ "all"), EXECUTORS and RESTRICTED_AS (a test holds them equal).
SplitChoice = Literal["train", "dev", "test", "all"]
RestrictedChoice = Literal["violation", "allowed"]
ExecutorChoice = Literal["local", "dask"]
#: The metrics a paired test runs on (as harness.results.store.TEST_METRICS; a test holds them equal).
TestMetricChoice = Literal["precision", "recall", "f1", "fpr", "average_precision", "roc_auc"]


def _print_version(value: bool) -> None:
    if value:
        import harness

        sys.stdout.write(f"policybench {harness.__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def _headless_charts() -> None:
    """The command line draws to files only: the Agg backend (the library never sets one)."""
    import matplotlib

    matplotlib.use("Agg")


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def _records(df: Any) -> list[dict[str, Any]]:
    """A DataFrame as JSON records (NaN as null, timestamps as ISO strings)."""
    return json.loads(df.to_json(orient="records", date_format="iso"))


def _user_error(exc: BaseException) -> bool:
    """A PolicyBench error, or a metric input error (only possible once harness.metrics is loaded)."""
    metric_errors = sys.modules.get("harness.metrics._errors")
    return isinstance(exc, PolicyBenchError) or (
        metric_errors is not None and isinstance(exc, metric_errors.MetricInputError))


def handle_errors(fn: Callable) -> Callable:
    """Turn user-facing errors into a message on stderr and exit code 2 (130 on Ctrl-C)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _user_error(exc):
                raise
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("\n[yellow]interrupted.[/] Every committed prediction batch is in the cache; "
                      "run the same command again to resume without recomputing them.", soft_wrap=True)
            raise typer.Exit(130) from None

    return wrapper


# --------------------------------------------------------------------------- policies
@policies_app.command("list")
@handle_errors
def policies_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the policy versions."""
    from harness.policies import list_versions, load_policy

    rows = []
    for v in list_versions():
        p = load_policy(v)
        prov = p.provenance
        rows.append({"id": p.id, "date": str(p.date), "title": p.title,
                     "provenance": getattr(prov, "kind", None) or (prov.get("kind") if isinstance(prov, dict) else str(prov)),
                     "n_categories": len(p.category_keys),
                     "n_disallowed_topics": sum(1 for t in p.topics if p.verdict(t).verdict == "disallowed")})
    if as_json:
        return _json(rows)
    t = Table(title="Policy versions")
    for c in ("id", "title", "provenance", "n_categories", "n_disallowed_topics"):
        t.add_column(c)
    for r in rows:
        t.add_row(*(str(r[c]) for c in ("id", "title", "provenance", "n_categories", "n_disallowed_topics")))
    out.print(t)


@policies_app.command("show")
@handle_errors
def policies_show(version: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one policy version: its categories and the verdict for every topic."""
    from harness.policies import load_policy

    p = load_policy(version)
    topics = {t: p.verdict(t) for t in p.topics}
    if as_json:
        return _json({
            "id": p.id, "date": str(p.date), "title": p.title,
            "provenance": p.provenance.model_dump() if hasattr(p.provenance, "model_dump") else p.provenance,
            "categories": [{"key": c.key, "title": c.title, "description": c.description} for c in p.categories],
            "topics": {t: {"verdict": v.verdict, "category": v.category} for t, v in topics.items()},
        })
    out.print(f"[bold]{p.title}[/] ({p.id})")
    t = Table(title="Categories")
    t.add_column("key")
    t.add_column("title")
    for c in p.categories:
        t.add_row(c.key, c.title)
    out.print(t)
    t = Table(title="Topic verdicts")
    for col in ("topic", "verdict", "category"):
        t.add_column(col)
    for name, v in topics.items():
        t.add_row(name, v.verdict, v.category or "")
    out.print(t)


@policies_app.command("new")
@handle_errors
def policies_new(
    name: str = typer.Argument(..., help="The new policy's id (lowercase letters, digits, '-', '_')."),
    base: str = typer.Option(REFERENCE_VERSION, "--from", help="Policy version (or file) to start from."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="File to write (default: NAME.yaml here)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write an editable policy file: every topic with its verdict, category and an empty quote."""
    from harness._io import write_text
    from harness.errors import InputError, Problem
    from harness.policies import load_policy, policy_summary, scaffold_policy

    text = scaffold_policy(name, base)
    target = out_file or Path(f"{name}.yaml")
    if target.exists() and not force:
        raise InputError(Problem(f"{target} exists; give another --out or --force to overwrite it",
                                 file=str(target), field="out"))
    write_text(target, text)
    out.print(f"wrote {target}: {policy_summary(load_policy(target))}", highlight=False)
    out.print(f"edit it, then: policybench policies validate {target}", highlight=False)


@policies_app.command("validate")
@handle_errors
def policies_validate(path: Path = typer.Argument(..., help="The policy file to check.")) -> None:
    """Check a policy file: its problems by file, line and field (exit 2), or a one-line summary."""
    from harness.policies import policy_summary, validate_policy_file

    p = validate_policy_file(path)
    out.print(f"{path} is valid: {policy_summary(p)}", highlight=False)


@policies_app.command("diff")
@handle_errors
def policies_diff(
    v1: str,
    v2: str,
    suite: Optional[str] = typer.Option(None, "--suite", help="Also count the suite's examples each change flips."),
    split: SplitChoice = typer.Option(_D.split or "all", "--split", help="The split counted with --suite."),
    restricted_as: RestrictedChoice = typer.Option(_D.restricted_as, "--restricted-as", help="How restricted topics count."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two policy versions, topic by topic (with --suite: the flips per topic)."""
    from harness.policies import diff

    d = diff(v1, v2)
    data = d.to_dict()
    flips = None
    if suite is not None:
        from harness.scoring import flip_set
        from harness.suites import load_suite

        s = load_suite(suite)
        f = flip_set(s.select(split=split) if split != "all" else s, v1, v2, restricted_as=restricted_as)
        flips = {"suite": suite, "split": split, "restricted_as": restricted_as,
                 "topics": f.topic_table().drop(columns=["before_quote", "after_quote"]).to_dict("records"),
                 "categories": f.summary().to_dict("records")}
        data["flips"] = flips
    if as_json:
        return _json(data)
    t = Table(title=f"Policy diff {v1} → {v2}")
    for c in ("topic", "before", "after"):
        t.add_column(c)
    for ch in data["changes"]:
        b, a = ch["before"], ch["after"]
        t.add_row(ch["topic"], f"{b['verdict']} ({b.get('category') or '-'})", f"{a['verdict']} ({a.get('category') or '-'})")
    out.print(t)
    for key in ("categories_added", "categories_removed"):
        if data.get(key):
            out.print(f"{key.replace('_', ' ')}: {', '.join(data[key])}")
    if flips is not None:
        t = Table(title=f"Examples of {suite} ({split}) each change flips, {v1} → {v2}")
        for c in ("topic", "effect", "tightened (0→1)", "relaxed (1→0)", "examples", "categories"):
            t.add_column(c)
        for r in flips["topics"]:
            t.add_row(r["topic"], r["effect"] or "-", str(r["n_tightened"]), str(r["n_relaxed"]),
                      str(r["n_examples"]), ", ".join(r["categories"]) or "-")
        out.print(t)


# --------------------------------------------------------------------------- suites
@suites_app.command("list")
@handle_errors
def suites_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the suites in datasets/suites."""
    from harness.suites import list_suites, resolve_suite_path
    from harness.suites.load import read_card

    rows = []
    for name in list_suites():
        card = read_card(resolve_suite_path(name))
        rows.append({"name": name, "version": card["version"], "description": card.get("description", ""),
                     "licenses": sorted({str(l.get("license")) for l in card.get("licenses", []) if isinstance(l, dict)})})
    if as_json:
        return _json(rows)
    t = Table(title="Suites")
    for c in ("name", "version", "licenses", "description"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(r["name"], r["version"], ", ".join(r["licenses"]), r["description"])
    out.print(t)


@suites_app.command("show")
@handle_errors
def suites_show(
    name: str,
    policy: str = typer.Option(REFERENCE_VERSION, "--policy", help="Policy version the counts are projected under."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a suite's card and its counts per category × label × split under a policy version."""
    from harness.policies import load_policy
    from harness.suites import load_suite
    from harness.suites.cards import suite_summary

    summary = suite_summary(load_suite(name), load_policy(policy))
    if as_json:
        return _json(summary)
    out.print(f"[bold]{summary.get('name', name)}[/] {summary.get('version', '')} — {summary.get('description', '')}")
    cats = summary.get("categories", {})
    t = Table(title=f"Counts under {policy} (unsafe/benign per split; minimal pairs)")
    t.add_column("category")
    splits = ("train", "dev", "test")
    for sp in splits:
        t.add_column(sp)
    for sp in splits:
        t.add_column(f"pairs {sp}", justify="right")
    for cat, c in cats.items():
        t.add_row(cat, *(f"{c.get('unsafe', {}).get(sp, 0)}/{c.get('benign', {}).get(sp, 0)}" for sp in splits),
                  *(str(c.get("pairs", {}).get(sp, 0)) for sp in splits))
    out.print(t)


def _auc_cell(v: Any, gate: float | None = None) -> str:
    if v is None or v != v:
        return "—"
    txt = f"{v:.3f}"
    return f"[bold red]{txt}[/]" if gate is not None and v > gate else txt


@suites_app.command("audit")
@handle_errors
def suites_audit(
    name: str = typer.Argument(..., help="A suite name or folder (built-in or imported)."),
    policy: str = typer.Option(REFERENCE_VERSION, "--policy", help="Policy version that decides the categories."),
    split: str = typer.Option("test", "--split", help="The evaluated split (train/dev/test)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How far style or source alone gets: per category, the contrast-set AUC of a length + first-two-words
    model, a source-only model and a bag-of-words model trained on the other categories only."""
    from harness.policies import load_policy
    from harness.suites import load_suite
    from harness.suites.audit import SOURCE_GATE, SURFACE_GATE, audit_suite, gate_failures

    with err.status(f"auditing {name} (fitting three models per category)…"):
        result = audit_suite(load_suite(name), load_policy(policy), split=split)
    result["gate_failures"] = gate_failures(result)
    if as_json:
        return _json(result)
    t = Table(title=f"Shortcut audit of {name}, {split} split, categories of {policy} "
                    f"(contrast AUC; gates: surface <= {SURFACE_GATE}, source <= {SOURCE_GATE})")
    for col in ("category", "unsafe", "benign", "pairs", "fit", "(a) surface", "(b) source", "(c) bow other",
                "(a) cv5", "(b) cv5", "twin nearest"):
        t.add_column(col, justify="left" if col in ("category", "fit") else "right")
    for cat, r in result["categories"].items():
        t.add_row(cat, str(r["n_unsafe"]), str(r["n_benign"]), str(r["n_pairs"]), r["fit"],
                  _auc_cell(r["surface_auc"], SURFACE_GATE), _auc_cell(r["source_auc"], SOURCE_GATE),
                  _auc_cell(r["bow_other_auc"]), _auc_cell(r["surface_auc_cv"], SURFACE_GATE),
                  _auc_cell(r["source_auc_cv"], SOURCE_GATE), _auc_cell(r["twin_nearest_share"]))
    out.print(t)
    nd = result["near_duplicates_train_eval"]
    out.print(f"near-duplicate pairs (char 5-gram Jaccard >= 0.5) between train and {split}: {nd}")
    out.print("gates: " + ("all categories pass" if not result["gate_failures"]
                           else "FAIL — " + "; ".join(result["gate_failures"])))


@suites_app.command("build")
@handle_errors
def suites_build(
    name: Optional[List[str]] = typer.Option(None, "--name", help="Build only these suites (repeatable)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write here instead of datasets/suites."),
) -> None:
    """Rebuild the built-in suites from datasets/sources, deterministically."""
    from harness.suites.build import build_suites

    paths = build_suites(list(name) if name else None, out_dir=out_dir, progress=True)
    for n, p in paths.items():
        out.print(f"built {n}: {p}")


@suites_app.command("import")
@handle_errors
def suites_import(
    path: Path = typer.Argument(..., help="The file to import."),
    fmt: str = typer.Option(..., "--format", help="openai-moderation | xstest | csv | jsonl | parquet"),
    name: str = typer.Option(..., "--name", help="Name of the new suite."),
    text_col: Optional[str] = typer.Option(None, "--text-col"),
    label_col: Optional[str] = typer.Option(None, "--label-col"),
    category_col: Optional[str] = typer.Option(None, "--category-col"),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="YAML/CSV mapping your categories to topics."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write here instead of datasets/suites."),
) -> None:
    """Import a suite from a public format or your own CSV/JSONL/Parquet."""
    from harness.suites.importers import import_suite

    p = import_suite(path, format=fmt, name=name, text_col=text_col, label_col=label_col,
                     category_col=category_col, mapping=mapping, out_dir=out_dir)
    out.print(f"imported {name}: {p}")


# --------------------------------------------------------------------------- classifiers
@classifiers_app.command("list")
@handle_errors
def classifiers_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the classifiers: built-ins, hosted adapters and installed plugins."""
    from harness.classifiers.registry import list_classifiers

    rows = list_classifiers()
    if as_json:
        return _json(rows)
    t = Table(title="Classifiers")
    for c in ("name", "version", "taxonomy", "available", "requirements"):
        t.add_column(c, overflow="fold")
    for r in rows:
        avail = "yes" if r.get("available") else f"no: {r.get('unavailable_reason', '')}"
        t.add_row(str(r["name"]), str(r.get("version", "")), str(r.get("taxonomy", "")), avail,
                  ", ".join(r.get("requirements", []) or []))
    out.print(t)


@classifiers_app.command("train")
@handle_errors
def classifiers_train(
    name: List[str] = typer.Argument(None, help="Trainable classifiers (default: all)."),
    suite: str = typer.Option("core", "--suite", help="Suite whose train split is used."),
    generalisation: bool = typer.Option(False, "--generalisation",
                                        help="Also evaluate leave-one-source-out (one refit per source)."),
) -> None:
    """Retrain the trainable classifiers on a suite's train split (never dev or test)."""
    from harness.classifiers.training import TRAINABLE, train

    for n in (name or list(TRAINABLE)):
        path = train(n, suite=suite, generalisation=generalisation)
        out.print(f"trained {n}: {path}")


# --------------------------------------------------------------------------- predictions
predictions_app = typer.Typer(help="Predictions of systems run elsewhere: import, list, remove.", no_args_is_help=True)
app.add_typer(predictions_app, name="predictions")


@predictions_app.command("import")
@handle_errors
def predictions_import(
    path: Path = typer.Argument(..., help="The scores file: CSV, JSONL or Parquet."),
    suite: str = typer.Option(..., "--suite", help="The suite whose examples the rows score (name or folder)."),
    name: str = typer.Option(..., "--name", help="The system's name; it runs as the classifier imported:NAME."),
    taxonomy: str = typer.Option(..., "--taxonomy", help="topics | policy:<version> | a crosswalk name "
                                                         "(omni-moderation, llama-guard-3, ...) | a crosswalk file."),
    model_id: Optional[str] = typer.Option(None, "--model-id", help="The model that produced the scores."),
    revision: Optional[str] = typer.Option(None, "--revision", help="Its revision (commit, tag, date)."),
    ran_at: Optional[str] = typer.Option(None, "--ran-at", help="When it ran (ISO 8601)."),
    ran_where: Optional[str] = typer.Option(None, "--ran-where", help="Where it ran (machine, cluster, endpoint)."),
    split: SplitChoice = typer.Option("all", "--split", help="Only this split's examples must have a row."),
    allow_missing: bool = typer.Option(False, "--allow-missing",
                                       help="Import even when examples have no row (item errors in runs)."),
    replace: bool = typer.Option(False, "--replace", help="Replace an earlier import of the same name."),
    fmt: Optional[Literal["csv", "jsonl", "parquet"]] = typer.Option(None, "--format",
                                                                    help="The file format (default: from the extension)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Validate a file of scores and store it, with its provenance, as the system imported:NAME."""
    from harness.runner.imports import import_predictions

    summary = import_predictions(path, suite=suite, name=name, taxonomy=taxonomy, model_id=model_id,
                                 revision=revision, ran_at=ran_at, ran_where=ran_where,
                                 split=None if split == "all" else split, allow_missing=allow_missing,
                                 replace=replace, format=fmt)
    if as_json:
        return _json(summary.to_dict())
    out.print(f"imported {summary.classifier} (version {summary.version}): {summary.n_rows} rows of suite "
              f"{summary.suite}, {len(summary.labels)} labels of {summary.taxonomy}, stored in {summary.folder}")
    if summary.missing_ids:
        out.print(f"{len(summary.missing_ids)} of {summary.n_required} examples have no row; they are item "
                  "errors in every run (excluded from scoring).")
    out.print(f"run it: policybench run --suite {summary.suite} -c {summary.classifier}")


@predictions_app.command("list")
@handle_errors
def predictions_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the imported systems with their provenance."""
    from harness.classifiers.imported import ImportedPredictions, imported_systems

    rows = [ImportedPredictions(n).endpoint_info() | {"classifier": f"imported:{n}"} for n in imported_systems()]
    if as_json:
        return _json(rows)
    t = Table(title="Imported predictions")
    for c in ("classifier", "model_id", "revision", "ran_at", "suite", "imported_at"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(r["classifier"], str(r.get("model_id") or ""), str(r.get("revision") or ""),
                  str(r.get("ran_at") or ""), str((r.get("suite") or {}).get("name", "")), str(r.get("imported_at")))
    out.print(t)


@predictions_app.command("remove")
@handle_errors
def predictions_remove(name: str = typer.Argument(..., help="The imported system's name.")) -> None:
    """Delete an imported system's stored scores."""
    from harness.runner.imports import remove_import

    out.print(f"removed {remove_import(name)}")


# --------------------------------------------------------------------------- run
def _num(v: Any) -> str:
    return "—" if v is None or v != v else f"{v:.3f}"


def _ms(row: Any, key: str) -> str:
    """Seconds in ``row[key]`` as milliseconds, or "-" when not measured."""
    v = row.get(key)
    return f"{1000 * v:.2f}" if v is not None and v == v else "-"


def _print_metrics(result: Any, heading: str | None = None) -> None:
    from harness.results.views import SUMMARY_METRICS, summary_table

    summ = summary_table(result.metrics)
    heading = heading or f"{result.suite.name} ({len(result.suite)} examples)"
    t = Table(title=f"Run {result.run_id}: {heading} — macro over the "
                    "covered categories where each number is defined (n = how many)")
    for c in ("classifier", "policy", "contrast AUC", "over-blocking", "P", "R", "F1", "AP", "n", "errors"):
        t.add_column(c, justify="right" if c not in ("classifier", "policy") else "left")
    for r in summ[summ["n_covered"] > 0].to_dict("records"):
        t.add_row(r["classifier"], r["policy_version"], *(_num(r[m]) for m in SUMMARY_METRICS),
                  str(r["f1_n"]), str(r["n_errors"]))
    out.print(t)
    if len(result.latency):
        t = Table(title="Latency (single item, after warm-up) and batch throughput")
        for c in ("classifier", "p50 ms", "p95 ms", "p99 ms", "items/s", "batch"):
            t.add_column(c, justify="right" if c != "classifier" else "left")
        for _, r in result.latency.iterrows():
            name = r["classifier"] + (f"@{r['binding']}" if r.get("binding") else "")  # as scoring.display_name
            thr = f"{r['throughput_items_per_s']:.0f}" + ("*" if r.get("batch_reused_embeddings") else "")
            t.add_row(name, *(_ms(r, k) for k in ("p50_s", "p95_s", "p99_s")), thr, str(r["batch_size"]))
        out.print(t)
        if "batch_reused_embeddings" in result.latency and result.latency["batch_reused_embeddings"].any():
            out.print("* the batch phase reused text embeddings computed for another classifier or binding; "
                      "single-item latencies are measured without sharing.")


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Any:
    """Set environment variables for the duration of the block (then restore them)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@app.command("run")
@handle_errors
def run(
    suite: str = typer.Option(DEFAULT_SUITE, "--suite", help="Suite name or folder."),
    classifier: Optional[List[str]] = typer.Option(None, "--classifier", "-c", help="Classifier (repeatable; default: the built-in offline field)."),
    policy: Optional[List[str]] = typer.Option(None, "--policy", "-p", help="Policy version or policy file (repeatable; default: all)."),
    split: SplitChoice = typer.Option(_D.split or "all", "--split", help="The evaluated split."),
    restricted_as: RestrictedChoice = typer.Option(_D.restricted_as, "--restricted-as",
                                                   help="How 'restricted' topics count."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for results/runs (default: results/runs)."),
    n_resamples: int = typer.Option(_D.n_resamples, "--n-resamples", help="Bootstrap resamples for CIs."),
    seed: int = typer.Option(_D.seed, "--seed", help="Seed of the bootstrap resampling."),
    threshold: float = typer.Option(_D.threshold, "--threshold", help="Score at or above which a category is flagged."),
    batch_size: Optional[int] = typer.Option(_D.batch_size, "--batch-size", help="Items per predict call (default: each classifier's own)."),
    latency_sample: int = typer.Option(_D.latency_sample, "--latency-sample", help="Items timed one at a time per classifier (-1: all)."),
    no_cache: bool = typer.Option(not _D.use_cache, "--no-cache", help="Recompute predictions even when cached."),
    executor: ExecutorChoice = typer.Option(_D.executor, "--executor", help="Where predictions run."),
    scheduler: Optional[str] = typer.Option(_D.scheduler, "--scheduler", help="dask scheduler address (default: a LocalCluster)."),
    limit: Optional[int] = typer.Option(_D.limit, "--limit", help="Only the first N examples (smoke runs)."),
    timeout: float = typer.Option(_R.timeout, "--timeout", envvar=ENV_TIMEOUT,
                                  help="Hosted classifiers: seconds an attempt waits for the answer."),
    max_attempts: int = typer.Option(_R.max_attempts, "--max-attempts", envvar=ENV_MAX_ATTEMPTS,
                                     help="Hosted classifiers: attempts per request, the first included."),
    deadline: Optional[float] = typer.Option(_R.deadline, "--deadline", envvar=ENV_DEADLINE,
                                             help="Hosted classifiers: seconds each may spend on requests in this "
                                                  "run; then the items not done fail (retried by the next run)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (run id and folder, summary, metrics, latency) "
                                                       "instead of tables."),
) -> None:
    """Run classifiers over a suite and score them under every policy version (the main job)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness._io import ensure_writable_dir
    from harness.results.benchmark import run_benchmark
    from harness.results.runs import runs_dir

    target = Path(out_dir) if out_dir else runs_dir()
    ensure_writable_dir(target, what="results folder")
    opts = RunOptions(split=None if split == "all" else split, restricted_as=restricted_as, threshold=threshold,
                      n_resamples=n_resamples, seed=seed, batch_size=batch_size, latency_sample=latency_sample,
                      use_cache=not no_cache, executor=executor, scheduler=scheduler, limit=limit)
    requests = RequestOptions(timeout=timeout, max_attempts=max_attempts, deadline=deadline)
    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as prog:
        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = prog.add_task(label, total=total)
            prog.update(tasks[label], completed=done, total=total)

        with _environment(requests.environ()):  # the hosted adapters read them when the run builds them
            result = run_benchmark(suite, classifier or None, policy or None, options=opts, out=target,
                                   progress=progress)
    if as_json:
        return _json({"run_id": result.run_id, "run_dir": str(result.run_dir) if result.run_dir else None,
                      "summary": _records(result.summary()), "metrics": _records(result.metrics),
                      "latency": _records(result.latency)})
    _print_metrics(result)
    out.print(f"results: {result.run_dir}")


@app.command("rescore")
@handle_errors
def rescore(
    run: Optional[str] = typer.Argument(None, help="Run id or folder (default: the latest run)."),
    policy: Optional[List[str]] = typer.Option(None, "--policy", "-p", help="Policy version or file (repeatable; default: the run's own, as recorded)."),
    restricted_as: Optional[RestrictedChoice] = typer.Option(None, "--restricted-as",
                                                             help="How 'restricted' topics count (default: the run's)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Flagging threshold (default: the run's)."),
    n_resamples: Optional[int] = typer.Option(None, "--n-resamples", help="Bootstrap resamples (default: the run's)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Also write the re-scored metrics table to this CSV file."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON instead of tables."),
) -> None:
    """Re-score a stored run's predictions under other policies or options (no prediction is recomputed)."""
    from types import SimpleNamespace

    from harness._io import write_text
    from harness.scoring import rescore as do_rescore

    stored = _latest_run(run)
    metrics = do_rescore(stored, policy or None, restricted_as=restricted_as, threshold=threshold,
                         n_resamples=n_resamples)
    if csv is not None:
        write_text(csv, metrics.to_csv(index=False))
    if as_json:
        return _json(json.loads(metrics.to_json(orient="records")))
    _print_metrics(SimpleNamespace(run_id=stored.run_id, suite=stored.suite, metrics=metrics, latency=metrics.iloc[0:0]))


# --------------------------------------------------------------------------- runs
@runs_app.command("list")
@handle_errors
def runs_list(
    root: Optional[Path] = typer.Option(None, "--root", help="Folder of run folders (default: results/runs and the "
                                                            "published results/run)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the stored runs: id, suite, classifiers, policies, commit, duration."""
    from harness.results.store import runs_df

    df = runs_df(root)
    if as_json:
        return _json(_records(df))
    t = Table(title=f"Stored runs ({len(df)})")
    for c in ("run id", "suite", "split", "examples", "classifiers", "policies", "commit", "duration s", "path"):
        t.add_column(c, justify="right" if c in ("examples", "duration s") else "left")
    for r in df.to_dict("records"):
        commit = (r["commit"] or "?")[:10] + ("+dirty" if r["dirty"] else "")
        t.add_row(r["run_id"], f"{r['suite']} {r['suite_version']}", r["split"], str(r["n_examples"]),
                  ", ".join(r["classifiers"]), ", ".join(r["policy_versions"]), commit, f"{r['duration_s']:.0f}",
                  r["path"])
    out.print(t)


@runs_app.command("show")
@handle_errors
def runs_show(
    run: Optional[str] = typer.Argument(None, help="Run id or folder (default: the latest run)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (record, summary, latency)."),
) -> None:
    """Show one stored run: its record and the headline table."""
    stored = _latest_run(run)
    rec = stored.record
    if as_json:
        return _json({"path": str(stored.path), "record": rec.model_dump(mode="json"),
                      "summary": _records(stored.summary()), "latency": _records(stored.latency)})
    commit = rec.git.get("commit") or "?"
    out.print(f"[bold]{rec.run_id}[/] at {stored.path}")
    out.print(f"suite {rec.suite.name} {rec.suite.version} (split {rec.suite.split or 'all'}, "
              f"{rec.suite.n_examples} examples); policies {', '.join(rec.policy_versions)}")
    out.print(f"commit {commit}{' (dirty)' if rec.git.get('dirty') else ''}; {rec.started} → {rec.finished}"
              + (f"; record format {rec.migrated_from}, migrated" if rec.migrated_from else ""))
    out.print("options: " + ", ".join(f"{k}={v}" for k, v in rec.options.items()))
    _print_metrics(stored, heading=f"{rec.suite.name} ({rec.suite.n_examples} examples)")


@runs_app.command("compare")
@handle_errors
def runs_compare(
    run_a: str = typer.Argument(..., help="Run A: id or folder (the baseline)."),
    run_b: str = typer.Argument(..., help="Run B: id or folder (compared with A: differences are B - A)."),
    metric: TestMetricChoice = typer.Option("f1", "--metric", help="Metric of the paired test."),
    classifier: Optional[List[str]] = typer.Option(None, "--classifier", "-c", help="Only this classifier (repeatable)."),
    policy: Optional[List[str]] = typer.Option(None, "--policy", "-p", help="Only this policy version (repeatable)."),
    category: Optional[List[str]] = typer.Option(None, "--category", help="Only this category (repeatable)."),
    n_resamples: int = typer.Option(1000, "--n-resamples", min=1, help="Paired-bootstrap resamples."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one record per cell)."),
) -> None:
    """Per (classifier, policy version, category): each headline metric in A and B, B - A, and a paired
    bootstrap of the difference on the examples both runs hold (same id and text)."""
    from harness.results.store import compare_runs

    df = compare_runs(run_a, run_b, metric=metric, classifiers=classifier or None, policies=policy or None,
                      categories=category or None, n_resamples=n_resamples)
    if as_json:
        return _json({**{k: v for k, v in df.attrs.items()}, "cells": _records(df)})
    t = Table(title=f"{df.attrs['run_b']} - {df.attrs['run_a']}: {metric} per cell, paired bootstrap on the "
                    "shared examples (— = undefined)")
    for c in ("classifier", "policy", "category", f"{metric} A", f"{metric} B", "B - A", "paired CI", "p", "shared"):
        t.add_column(c, justify="left" if c in ("classifier", "policy", "category") else "right")
    has_col = f"{metric}_a" in df
    for r in df.to_dict("records"):
        ci = "—" if r["diff_low"] != r["diff_low"] else f"[{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]"
        t.add_row(r["classifier"], r["policy_version"], r["category"],
                  _num(r[f"{metric}_a"]) if has_col else "—", _num(r[f"{metric}_b"]) if has_col else "—",
                  "—" if r["diff"] != r["diff"] else f"{r['diff']:+.3f}", ci, _num(r["p_value"]), str(r["n_shared"]))
    out.print(t)
    only = df.attrs.get("only_a", 0), df.attrs.get("only_b", 0)
    if any(only):
        out.print(f"cells in one run only: {only[0]} in A, {only[1]} in B (not compared)")


# --------------------------------------------------------------------------- charts, leaderboard, publish
def _latest_run(run: Optional[str]) -> Any:
    from harness.errors import InputError, Problem
    from harness.results.runs import list_runs, load_run

    if run:
        return load_run(run)
    runs = list_runs()
    if not runs:
        raise InputError(Problem("no stored runs in results/runs; run `policybench run` first", field="run"))
    return load_run(max(runs, key=lambda p: (p / "manifest.json").stat().st_mtime))


@app.command("charts")
@handle_errors
def charts(
    run: Optional[str] = typer.Argument(None, help="Run id or folder (default: the latest run)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the figures (default: <run>/charts)."),
) -> None:
    """Write every chart of a run as PNG and SVG."""
    _headless_charts()
    from harness.charts import write_charts

    stored = _latest_run(run)
    for p in write_charts(stored, out_dir):
        out.print(str(p))


@app.command("leaderboard")
@handle_errors
def leaderboard(
    run: Optional[str] = typer.Argument(None, help="Run id or folder (default: the latest run)."),
    out_dir: Path = typer.Option(Path("results"), "--out", help="Folder for leaderboard.{md,json,html}."),
    rank_by: str = typer.Option("f1", "--rank-by", help="precision | recall | f1 | average_precision"),
    n_resamples: int = typer.Option(1000, "--n-resamples", help="Paired-bootstrap resamples for ties."),
) -> None:
    """Build results/leaderboard.md, .json and a self-contained .html from a stored run."""
    from harness.results.leaderboard import write_leaderboard

    for kind, p in write_leaderboard(_latest_run(run), out_dir, rank_by=rank_by, n_resamples=n_resamples).items():
        out.print(f"{kind}: {p}")


@app.command("publish")
@handle_errors
def publish(
    suite: str = typer.Option("core", "--suite"),
    out_dir: Path = typer.Option(Path("results"), "--out", help="The published results folder."),
    n_resamples: int = typer.Option(1000, "--n-resamples"),
) -> None:
    """Regenerate the published results: run every built-in system on the suite under every policy
    version, then write the leaderboard, the charts and the run itself under results/."""
    _headless_charts()
    from harness.publish import publish as do_publish

    for kind, p in do_publish(suite=suite, out_dir=out_dir, n_resamples=n_resamples, console=err).items():
        out.print(f"{kind}: {p}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
