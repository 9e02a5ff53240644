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
