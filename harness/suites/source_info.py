"""``datasets/sources/<folder>/source.yaml``: a source's name, reader, licence and attribution.

Every source folder declares itself (format_version 1)::

    format_version: 1
    name: hatecheck            # the name suites and rows use
    reader: hatecheck          # a reader registered in harness.suites.sources
    license: CC-BY-4.0
    attribution: Röttger et al., HateCheck (ACL 2021)
    url: https://github.com/paul-rottger/hatecheck-data
    notes: text normalised (NFC, whitespace)   # optional

The licence text itself stays in the folder's ``LICENSE*`` and ``ATTRIBUTION`` files; this file
is what suite cards quote. Problems name the file, line and field.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness._yaml import read_yaml, validate
from harness.errors import InputError, Problem


class SourceInfo(BaseModel):
    """One source's ``source.yaml``; ``folder`` is where it was found (not part of the file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: Literal[1]
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    reader: str = Field(min_length=1)
    license: str = Field(min_length=1)
    attribution: str = Field(min_length=1)
    url: str = Field(min_length=1)
    notes: str = ""
    folder: Path | None = Field(default=None, exclude=True)

    @field_validator("format_version", mode="before")
    @classmethod
    def _version(cls, v: object) -> object:
        if v != 1 or type(v) is not int:
            raise ValueError(f"unknown format_version {v!r}; this PolicyBench reads format_version 1")
        return v


def load_source_info(path: Path, readers: Iterable[str]) -> SourceInfo:
    """Read and validate one ``source.yaml``; its ``reader`` must be one of ``readers``."""
    data, lines = read_yaml(path)
    if isinstance(data, dict) and "folder" in data:
        raise InputError(Problem("unknown field (the folder is where the file is)", file=str(path),
                                 line=lines.line(("folder",)), field="folder"))
    info = validate(SourceInfo, data, path, lines)
    known = sorted(readers)
    if info.reader not in known:
        raise InputError(Problem(f"unknown reader {info.reader!r}; registered readers: {', '.join(known)}",
                                 file=str(path), line=lines.line(("reader",)), field="reader"))
    return info.model_copy(update={"folder": path.parent})


def load_source_infos(root: Path, readers: Iterable[str]) -> dict[str, SourceInfo]:
    """Every ``<root>/*/source.yaml`` by source name (sorted by folder); a name used twice is an error."""
    readers = list(readers)
    out: dict[str, SourceInfo] = {}
    for path in sorted(Path(root).glob("*/source.yaml")):
        info = load_source_info(path, readers)
        if info.name in out:
            raise InputError(Problem(f"source name {info.name!r} is also declared in {out[info.name].folder}",
                                     file=str(path), field="name"))
        out[info.name] = info
    return out
