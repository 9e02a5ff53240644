"""The ``>>>`` examples in every module of the ``harness`` package run and give what they show.

Modules are discovered on disk (every ``.py`` file of every package under ``harness/`` whose
source holds a ``>>>``), so a module that is added, moved or renamed is covered without
touching this file. A module is skipped only when an example needs a package of an optional
extra of ``policybench`` that is not installed; the skip names the extra.

The examples must not write into the repository: what they open for writing, create, move or
delete is watched through an audit hook (``__pycache__`` aside).
"""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path

import pytest

import harness

PACKAGE_DIR = Path(harness.__file__).resolve().parent
REPO = PACKAGE_DIR.parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_IGNORED_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks"}


def _walk(path: Path, prefix: str):
    """(module name, file) of every module below ``path``, without importing anything."""
    for info in pkgutil.iter_modules([str(path)], prefix):
        if info.ispkg:
            yield info.name, path / info.name.rsplit(".", 1)[-1] / "__init__.py"
            yield from _walk(path / info.name.rsplit(".", 1)[-1], info.name + ".")
        else:
            yield info.name, path / (info.name.rsplit(".", 1)[-1] + ".py")


def modules_with_examples() -> list[str]:
    modules = [("harness", PACKAGE_DIR / "__init__.py"), *_walk(PACKAGE_DIR, "harness.")]
    return sorted(name for name, file in modules
                  if file.is_file() and ">>>" in file.read_text(encoding="utf-8"))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def optional_distributions() -> dict[str, str]:
    """Normalised distribution name -> the optional extra of policybench that requires it."""
    from packaging.requirements import Requirement

    out: dict[str, str] = {}
    for line in importlib.metadata.requires("policybench") or []:
        req = Requirement(line)
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", str(req.marker or ""))
        if extra:
            out.setdefault(_normalise(req.name), extra.group(1))
    return out


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_extra(exc: BaseException, optional: dict[str, str], installed=_installed) -> str | None:
    """The reason to skip when ``exc`` says a package of an uninstalled optional extra is missing.

    None for anything else: a missing core dependency, or a module of the project, is a failure.
    """
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = _normalise(exc.name.split(".")[0])
    extra = optional.get(top)
    if extra is None or installed(top):
        return None
    return f"needs the '{extra}' extra ({exc.name} is not installed: pip install 'policybench[{extra}]')"


class _Runner(doctest.DocTestRunner):
    """A runner that keeps the exceptions the examples raised, to tell a missing extra apart."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.exceptions: list[BaseException] = []

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.exceptions.append(exc_info[1])
        super().report_unexpected_exception(out, test, example, exc_info)


class _WriteWatch:
    """Paths under the checkout that this process opens for writing, creates, moves or deletes.

    An audit hook (PEP 578) sees what Python code does, in this process only, so other work in
    the same checkout cannot be mistaken for the examples' writes. Writes by native code that
    bypasses Python's file functions are not seen.
    """

    _WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    _installed = False
    active: list[str] | None = None

    @classmethod
    def start(cls) -> None:
        if not cls._installed:
            sys.addaudithook(cls._hook)
            cls._installed = True
        cls.active = []

    @classmethod
    def stop(cls) -> list[str]:
        seen, cls.active = cls.active or [], None
        return sorted(set(seen))

    @classmethod
    def _hook(cls, event: str, args: tuple) -> None:
        if cls.active is None:
            return
        try:
            cls._record(event, args)
        except Exception:  # noqa: BLE001 - an error in a hook would abort the audited call
            cls.active.append(f"<could not check {event} {args!r}>")

    @classmethod
    def _record(cls, event: str, args: tuple) -> None:
        dir_fd = None
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & cls._WRITE_FLAGS)
            paths = [path] if writes else []
        elif event in ("os.remove", "os.rmdir", "shutil.rmtree"):  # (path, dir_fd)
            paths, dir_fd = [args[0]], args[1]
        elif event in ("os.mkdir", "os.chmod"):  # (path, mode, dir_fd)
            paths, dir_fd = [args[0]], args[2]
        elif event == "os.rename":  # (src, dst, src_dir_fd, dst_dir_fd)
            paths, dir_fd = [args[1]], args[3]
        elif event == "os.truncate":  # (path, length)
            paths = [args[0]]
        elif event in ("shutil.copyfile", "shutil.move"):  # (src, dst)
            paths = [args[1]]
        else:
            return
        base = Path.cwd()
        if isinstance(dir_fd, int) and dir_fd >= 0:  # relative to an open folder (e.g. shutil.rmtree's own walk)
            try:
                base = Path(os.readlink(f"/proc/self/fd/{dir_fd}"))
            except OSError:
                return
        for p in paths:
            if isinstance(p, int):  # a file descriptor
                continue
            try:
                rel = (base / os.fsdecode(p)).resolve().relative_to(REPO)
            except (TypeError, ValueError):
                continue
            if not _IGNORED_DIRS.intersection(rel.parts):
                cls.active.append(str(rel))


def run_examples(module) -> tuple[doctest.TestResults, str, list[BaseException]]:
    runner = _Runner(optionflags=FLAGS)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, module.__name__):
        runner.run(test, out=report.append)
    return doctest.TestResults(runner.failures, runner.tries), "".join(report), runner.exceptions


MODULES = modules_with_examples()


def test_the_walker_finds_every_file_with_examples():
    # checked against a plain walk of the folder: every .py file with a '>>>' inside a package
    # (a folder with __init__.py all the way up) is one of the modules tested
    expected = set()
    for file in PACKAGE_DIR.rglob("*.py"):
        parts = file.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        in_package = all((PACKAGE_DIR.parent.joinpath(*parts[:i]) / "__init__.py").is_file()
                         for i in range(1, len(parts)))
        if in_package and ">>>" in file.read_text(encoding="utf-8"):
            expected.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert set(MODULES) == expected
    assert any(m.count(".") >= 3 for m in MODULES)  # nested subpackages (classifiers/hosted/...) are reached


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        reason = missing_extra(exc, optional_distributions())
        if reason:
            pytest.skip(reason)
        raise
    _WriteWatch.start()
    try:
        result, report, exceptions = run_examples(module)
    finally:
        written = _WriteWatch.stop()
    if result.failed:  # a missing optional package makes the examples after it fail too
        reasons = [r for r in (missing_extra(e, optional_distributions()) for e in exceptions) if r]
        if reasons:
            pytest.skip(reasons[0])
    assert result.attempted > 0, f"{name} has '>>>' in its source but no example doctest can find"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed:\n{report}"
    assert not written, f"the examples of {name} wrote into the repository: {written[:10]}"


def test_public_metrics_have_examples():
    import harness.metrics

    for name in harness.metrics.__all__:
        obj = getattr(harness.metrics, name)
        if callable(obj) and not isinstance(obj, type):
            assert ">>>" in (obj.__doc__ or ""), f"{name} has no example"


def test_a_missing_extra_skips_and_anything_else_fails():
    optional = {"torch": "embeddings", "sentence_transformers": "embeddings"}
    absent = lambda dist: False  # noqa: E731
    torch_missing = ModuleNotFoundError("No module named 'torch'", name="torch")
    assert "'embeddings' extra" in missing_extra(torch_missing, optional, installed=absent)
    st_missing = ModuleNotFoundError("x", name="sentence_transformers.models")
    assert "embeddings" in missing_extra(st_missing, optional, installed=absent)
    # installed but broken, a core dependency, a module of the project, another error: no skip
    assert missing_extra(torch_missing, optional, installed=lambda dist: True) is None
    assert missing_extra(ModuleNotFoundError("x", name="numba"), optional, installed=absent) is None
    assert missing_extra(ModuleNotFoundError("x", name="harness.scoring"), optional, installed=absent) is None
    assert missing_extra(ImportError("x", name="torch"), optional, installed=absent) is None


def test_the_embeddings_extra_is_known_to_the_skip():
    # the skip rests on the package metadata: if it stopped naming the extra's packages, a missing
    # torch would fail these tests instead of skipping them
    assert optional_distributions().get("torch") == "embeddings"


def test_the_write_watch_sees_writes_under_the_checkout_only(tmp_path, monkeypatch):
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    checkout.mkdir(), elsewhere.mkdir()
    monkeypatch.setattr(sys.modules[__name__], "REPO", checkout.resolve())
    (checkout / "kept.txt").write_text("x")
    (checkout / "__pycache__").mkdir()
    _WriteWatch.start()
    try:
        (checkout / "kept.txt").read_text()  # reading is fine
        (elsewhere / "out.txt").write_text("x")  # outside the checkout
        (checkout / "__pycache__" / "m.pyc").write_bytes(b"")  # byte code is not the examples' doing
        (checkout / "new.txt").write_text("x")
        os.close(os.open(checkout / "raw.bin", os.O_WRONLY | os.O_CREAT))
        (checkout / "made").mkdir()
        os.replace(elsewhere / "out.txt", checkout / "moved.txt")
        (elsewhere / "tree" / "sub").mkdir(parents=True)
        (elsewhere / "tree" / "sub" / "f.txt").write_text("x")
        shutil.rmtree(elsewhere / "tree")  # unlinks relative to open folders: outside, not flagged
        (checkout / "kept.txt").unlink()
    finally:
        written = _WriteWatch.stop()
    assert written == ["kept.txt", "made", "moved.txt", "new.txt", "raw.bin"]
