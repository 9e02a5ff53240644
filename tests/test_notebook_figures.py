"""The notebooks show their charts inline when executed (as Jupyter or nbmake runs them).

Each notebook is executed headless with nbclient in a fresh kernel, inheriting this process's
environment as nbmake's kernels do; its outputs must hold a figure as ``image/png`` (what the
inline backend displays). The library never selects a backend, so the kernel's default
(``matplotlib_inline``) draws them. The notebooks stay committed without outputs
(``tests/test_notebooks_clean.py``): the executed copy is kept in memory only.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _figures(nb) -> list[tuple[int, str]]:
    """``(cell index, first source line)`` of every code cell that displayed an image/png."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {}):
                out.append((i, cell.source.splitlines()[0] if cell.source else ""))
                break
    return out


def test_figures_are_found_in_outputs():
    """The check itself: a display_data output with image/png counts, a text repr of a figure does not."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                                                        "text/plain": "<Figure>"})]
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "<Figure size 640x480>"},
                                                  execution_count=1)]
    assert _figures(nb) == [(0, "a")]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shows_inline_figures(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    figures = _figures(nb)
    assert figures, f"{path.name}: no cell displayed an image/png figure"
    # every cell that draws a chart shows it (none prints '<Figure size ...>' instead)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "harness.charts" in cell.source:
            assert i in {k for k, _ in figures}, f"{path.name}: chart cell {i} displayed no figure"
        for o in cell.get("outputs", []):
            text = o.get("data", {}).get("text/plain", "")
            assert not (text.startswith("<Figure size") and "image/png" not in o.get("data", {})), \
                f"{path.name}: cell {i} shows a figure as text"
