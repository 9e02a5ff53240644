"""Notebooks are committed with outputs stripped (nbmake runs them in the test suite)."""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    for stem in ("01-quickstart", "02-policy-drift", "03-error-analysis", "04-bring-your-own-classifier"):
        assert f"{stem}.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


def test_the_library_never_sets_a_matplotlib_backend():
    """Importing harness.charts keeps the user's backend, so notebook charts show inline."""
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); import harness.charts, harness.results.leaderboard; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"
