"""The classifier registry: built-ins, plugins through entry points, unknown names."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import numpy as np
import pytest

from harness.classifiers import registry
from harness.classifiers.base import Classifier
from harness.errors import InputError

BUILTINS = ("keyword-rules", "pii-rules", "profanity-check", "better-profanity", "tfidf-logreg",
            "minilm-logreg", "minilm-policy-zeroshot")
ROW_KEYS = {"name", "version", "taxonomy", "requirements", "available", "unavailable_reason",
            "policy_conditioned", "description"}


class _EntryPoints(list):
    """What ``importlib.metadata.entry_points()`` returns, reduced to ``select(group=...)``."""

    def select(self, *, group: str):
        return [ep for ep in self if ep.group == group]


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """An importable module ``pb_fake_plugin`` with a classifier class and a factory."""
    (tmp_path / "pb_fake_plugin.py").write_text(textwrap.dedent('''
        import numpy as np
        from harness.classifiers.base import Classifier, Taxonomy

        class EchoLength(Classifier):
            """Scores long texts high (a plugin for tests)."""
            name = "echo-length"
            version = "7"
            taxonomy = Taxonomy.for_policy("2023-02-15")
            labels = ("spam",)
            requirements = ("nothing-else",)

            def __init__(self, scale=100.0):
                self.scale = scale

            def predict(self, texts):
                return np.array([[min(1.0, len(t) / self.scale)] for t in texts], np.float32)

        def make_echo():
            return EchoLength(scale=10.0)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "pb_fake_plugin"


def _patch_entry_points(monkeypatch, *eps: EntryPoint) -> None:
    monkeypatch.setattr(registry.metadata, "entry_points", lambda: _EntryPoints(eps))


def test_every_builtin_is_listed_with_the_documented_fields():
    rows = {r["name"]: r for r in registry.list_classifiers()}
    assert set(BUILTINS) <= set(rows)
    assert set(registry.DEFAULT_FIELD) <= set(registry.BUILTIN_TARGETS)
    for name in BUILTINS:
        assert ROW_KEYS <= set(rows[name]), name
        assert rows[name]["description"], name
    assert rows["keyword-rules"]["policy_conditioned"] is True
    assert rows["minilm-policy-zeroshot"]["policy_conditioned"] is True
    assert rows["tfidf-logreg"]["taxonomy"] == "topics"
    assert rows["pii-rules"]["taxonomy"] == "policy:2023-02-15"
    assert any("embeddings" in r for r in rows["minilm-logreg"]["requirements"])
    # the offline field can run here: rule engines always, models once trained (they ship trained)
    for name in ("keyword-rules", "pii-rules", "profanity-check", "better-profanity", "tfidf-logreg"):
        assert rows[name]["available"], (name, rows[name]["unavailable_reason"])


def test_unknown_name_is_an_input_error_listing_the_known_names():
    with pytest.raises(InputError) as err:
        registry.get_classifier("keyword-rulez")
    msg = str(err.value)
    assert "keyword-rulez" in msg
    for name in BUILTINS:
        assert name in msg


def test_register_decorator_and_options_reach_the_constructor():
    @registry.register("test-constant")
    class Constant(Classifier):
        name = "test-constant"
        labels = ("malware",)

        def __init__(self, value: float = 0.25):
            self.value = value

        def predict(self, texts):
            return np.full((len(texts), 1), self.value, np.float32)

    try:
        clf = registry.get_classifier("test-constant", value=0.75)
        assert clf.predict(["a", "b"]).tolist() == [[0.75], [0.75]]
        assert "test-constant" in registry.known_names()
    finally:
        registry.unregister("test-constant")
    assert "test-constant" not in registry.known_names()


def test_plugin_from_an_entry_point_is_listed_and_built(monkeypatch, plugin_module):
    _patch_entry_points(
        monkeypatch,
        EntryPoint("echo-length", f"{plugin_module}:EchoLength", registry.ENTRY_POINT_GROUP),
        EntryPoint("echo-factory", f"{plugin_module}:make_echo", registry.ENTRY_POINT_GROUP),
        EntryPoint("other-group", f"{plugin_module}:EchoLength", "some.other.group"),
    )
    rows = {r["name"]: r for r in registry.list_classifiers()}
    assert rows["echo-length"]["available"] is True
    assert rows["echo-length"]["version"] == "7"
    assert rows["echo-length"]["taxonomy"] == "policy:2023-02-15"
    assert rows["echo-length"]["requirements"] == ["nothing-else"]
    assert rows["echo-length"]["origin"].startswith("plugin:")
    assert "long texts" in rows["echo-length"]["description"]
    assert "other-group" not in rows
    assert registry.get_classifier("echo-length", scale=4.0).predict(["ab", "abcdefgh"]).tolist() == [[0.5], [1.0]]
    assert registry.get_classifier("echo-factory").predict(["abcde"]).tolist() == [[0.5]]


def test_a_broken_plugin_is_listed_unavailable_and_does_not_break_listing(monkeypatch, plugin_module):
    _patch_entry_points(
        monkeypatch,
        EntryPoint("broken", "pb_no_such_module_xyz:Thing", registry.ENTRY_POINT_GROUP),
        EntryPoint("not-callable", f"{plugin_module}:np", registry.ENTRY_POINT_GROUP),
        EntryPoint("echo-length", f"{plugin_module}:EchoLength", registry.ENTRY_POINT_GROUP),
    )
    rows = {r["name"]: r for r in registry.list_classifiers()}
    assert rows["broken"]["available"] is False
    assert "pb_no_such_module_xyz" in rows["broken"]["unavailable_reason"]
    assert rows["not-callable"]["available"] is False
    assert rows["echo-length"]["available"] is True
    assert set(BUILTINS) <= set(rows)
    with pytest.raises(InputError, match="cannot be loaded"):
        registry.get_classifier("broken")


def test_a_plugin_cannot_shadow_a_builtin(monkeypatch, plugin_module):
    _patch_entry_points(monkeypatch, EntryPoint("keyword-rules", f"{plugin_module}:EchoLength",
                                                registry.ENTRY_POINT_GROUP))
    rows = {r["name"]: r for r in registry.list_classifiers()}
    assert rows["keyword-rules"]["origin"] == "builtin"
    assert type(registry.get_classifier("keyword-rules")).__name__ == "KeywordRules"


def test_embedding_classifiers_explain_why_they_cannot_run(monkeypatch):
    from harness.classifiers.models import _embed, minilm, zeroshot

    real = importlib.util.find_spec
    monkeypatch.setattr(_embed.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    for cls in (minilm.MiniLmLogReg, zeroshot.MiniLmPolicyZeroShot):
        ok, why = cls.available()
        assert ok is False
        assert "torch" in why and "embeddings" in why


def test_importing_the_package_does_not_import_heavy_dependencies():
    code = ("import sys, harness.classifiers as c; c.list_classifiers(); "
            "print(sorted(m for m in ('torch', 'presidio_analyzer', 'sentence_transformers', 'spacy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_lazy_builtin_target_resolves_to_a_classifier_of_that_name():
    for name, target in registry.BUILTIN_TARGETS.items():
        cls = registry._materialise(target)
        assert getattr(cls, "name", None) == name, (name, target)
        assert callable(getattr(cls, "predict", None)), name


def test_importing_the_registry_imports_no_builtin_classifier_module():
    code = ("import sys, harness.classifiers, harness.classifiers.registry as r; "
            "mods = [m for m in sys.modules if m.startswith('harness.classifiers.') "
            "and m not in ('harness.classifiers.base', 'harness.classifiers.registry')]; "
            "print(mods); r.get_classifier('keyword-rules'); "
            "print('harness.classifiers.rules.keyword' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"


def test_a_misspelt_name_suggests_the_closest_known_names():
    with pytest.raises(InputError, match="did you mean 'keyword-rules'"):
        registry.get_classifier("keywrd-rules")
    with pytest.raises(InputError) as exc:
        registry.get_classifier("zzzz")
    assert "did you mean" not in str(exc.value) and "keyword-rules" in str(exc.value)
