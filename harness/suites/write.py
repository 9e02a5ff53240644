"""Writing a suite folder: ``examples.jsonl``, ``suite.yaml`` and ``README.md``.

One writer for the build (:mod:`harness.suites.build`) and the importers
(:mod:`harness.suites.importers`). A suite is written into a staging folder next to its final
place and moved there only when complete (:func:`staging`, :func:`install`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.paths import as_umask
from harness.suites.cards import REFERENCE_POLICY, dump_yaml, render_readme


def suite_card(name: str, description: str, *, version: str, licenses: list[dict], build: dict,
               table: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    """The ``suite.yaml`` mapping: the fields every card has, in order, then ``more``.

    Examples
    --------
    >>> table = {"categories": {}, "totals": {"by_label": {}, "unsafe_not_violating": {}}, "provenance_share": {}}
    >>> card = suite_card("mine", "Mine.", version="1.0.0", licenses=[{"source": "x"}], build={}, table=table,
    ...                   limitations=["few rows"])
    >>> list(card)[:4], card["sources"], card["limitations"]
    (['name', 'version', 'description', 'data'], ['x'], ['few rows'])
    """
    card = {
        "name": name,
        "version": version,
        "description": description,
        "data": "examples.jsonl",
        "reference_policy": REFERENCE_POLICY,
        "licenses": licenses,
        "sources": [lic["source"] for lic in licenses],
        "build": build,
        "counts": {"categories": table["categories"], "all": table["totals"]["by_label"],
                   "unsafe_not_violating": table["totals"]["unsafe_not_violating"]},
        "provenance_share": table["provenance_share"],
    }
    card.update(more)
    return card


def write_examples(folder: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """``folder/examples.jsonl``: one JSON object per line, key order kept, UTF-8, ``\\n`` ends."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "examples.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_card(folder: Path, card: Mapping[str, Any], table: Mapping[str, Any], *, extra: str = "") -> None:
    """``folder/suite.yaml`` (the card) and ``folder/README.md`` (rendered from it and ``table``)."""
    (folder / "suite.yaml").write_text(dump_yaml(card), encoding="utf-8", newline="\n")
    (folder / "README.md").write_text(render_readme(card, table, extra=extra), encoding="utf-8", newline="\n")


@contextmanager
def staging(out_dir: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder inside ``out_dir`` (created), removed on exit with whatever is left in it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir))
    as_umask(tmp, directory=True)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(staged: Path, final: Path, *, trash: Path) -> Path:
    """Move a fully written ``staged`` folder to ``final``, replacing it (old copy moved to ``trash``)."""
    if final.exists():
        final.rename(trash)
    staged.rename(final)
    return final
