"""The package layering, enforced: every import edge (module-level and function-local) goes down.

    errors  <  paths, _yaml  <  _io  <  policies, metrics  <  suites, options  <  classifiers  <  runner
    <  scoring  <  results, charts  <  publish, pytest_plugin  <  cli

``harness.metrics`` imports nothing of the project. Imports under ``if TYPE_CHECKING:`` are not
run and are not edges. The top-level ``harness/__init__.py`` (lazy public re-exports) is exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import harness

ROOT = Path(harness.__file__).parent

LAYERS: dict[str, int] = {
    "errors": 0, "paths": 1, "_yaml": 1, "_io": 2,
    "policies": 3, "metrics": 3,
    "suites": 4, "options": 4,
    "classifiers": 5,
    "runner": 6,
    "scoring": 7,
    "results": 8, "charts": 8,
    "publish": 9, "pytest_plugin": 9,
    "cli": 10, "__main__": 11,
}


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _unit(module: str) -> str | None:
    """The layered unit of ``harness.x.y``: ``x`` (a subpackage or a top-level module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "harness" else None


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every run-time import of a project module in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    me = _module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("harness")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("harness"):
                out.append((node.lineno, mod))
                if mod == "harness":  # from harness import policies
                    out += [(node.lineno, f"harness.{a.name}") for a in node.names]
    return out


def edges(root: Path = ROOT) -> list[tuple[str, int, str, str]]:
    """``(file, line, from unit, to unit)`` for every cross-unit import under ``root`` (the package)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        src = _unit(_module_name(path, root))
        if src is None:  # harness/__init__.py: lazy public re-exports
            continue
        for line, mod in _imports(path, root):
            dst = _unit(mod)
            if dst and dst != src:
                out.append((str(path.relative_to(root.parent)), line, src, dst))
    return out


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in ROOT.rglob("*.py")} - {None}
    assert units <= set(LAYERS), f"put these in LAYERS: {sorted(units - set(LAYERS))}"


def test_imports_only_go_down_the_layers():
    bad = [f"{f}:{line}: {a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]})"
           for f, line, a, b in edges() if LAYERS[b] >= LAYERS[a]]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_metrics_imports_nothing_of_the_project():
    assert [e for e in edges() if e[2] == "metrics"] == []


def test_the_checker_sees_function_local_and_relative_imports(tmp_path):
    fake = tmp_path / "harness"
    (fake / "metrics").mkdir(parents=True)
    (fake / "metrics" / "_probe.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harness.cli import app\n"
        "def f():\n    from harness.suites import load_suite\n    from ..runner import cache\n")
    assert {(e[2], e[3]) for e in edges(fake)} == {("metrics", "suites"), ("metrics", "runner")}


def _module_level_graph() -> dict[str, set[str]]:
    """Module → project modules it imports at module level (what runs on ``import``)."""
    names = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for me, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        top = [n for n in tree.body if n.lineno not in skip]
        targets: set[str] = set()
        for node in top:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for _line, mod in _imports_of(node, me, path):
                    while mod and mod not in names:
                        mod = mod.rpartition(".")[0]
                    if mod and mod != me:
                        targets.add(mod)
        graph[me] = targets
    return graph


def _imports_of(node: ast.AST, me: str, path: Path) -> list[tuple[int, str]]:
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [(node.lineno, a.name) for a in node.names if a.name.startswith("harness")]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = package.split(".")
        mod = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    if not mod.startswith("harness"):
        return []
    return [(node.lineno, f"{mod}.{a.name}") for a in node.names] + [(node.lineno, mod)]


def test_no_import_cycles_between_modules():
    graph = _module_level_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package's __init__ re-exporting its own submodules is not a cycle unless a submodule imports it back
    assert not cycles, "module-level import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
