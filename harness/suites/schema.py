"""The example schema: one row of a suite.

An example carries fine-grained *topics* (keys of ``datasets/policies/topics.yaml``) and a
*label*:

- ``unsafe``: the text is an instance of its topics (it requests or contains that activity);
- ``benign``: it only resembles its topics and violates no policy version (a contrast example);
- ``unknown``: not labelled; never scored as benign (excluded from scoring).

Policies turn topics into per-category ground truth (see :meth:`harness.suites.Suite.labels`).
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Label = Literal["unsafe", "benign", "unknown"]
Split = Literal["train", "dev", "test"]
LabelProvenance = Literal["source_label", "mapped", "curated"]
#: How a label was checked: the source's own label taken as is; read row by row against the
#: labelling guide (``datasets/suites/LABELLING.md``); written new and read a second time.
Review = Literal["source_label", "audited", "curated_second_reading"]

LABELS: tuple[str, ...] = ("unsafe", "benign", "unknown")
SPLITS: tuple[str, ...] = ("train", "dev", "test")
PROVENANCES: tuple[str, ...] = ("source_label", "mapped", "curated")
REVIEWS: tuple[str, ...] = ("source_label", "audited", "curated_second_reading")

#: The longest text a suite may hold (characters); ``POLICYBENCH_MAX_TEXT_CHARS`` overrides.
MAX_TEXT_CHARS = int(os.environ.get("POLICYBENCH_MAX_TEXT_CHARS", "1000000"))

#: Columns of a suite's data file, in order.
COLUMNS: tuple[str, ...] = (
    "id",
    "text",
    "topics",
    "label",
    "split",
    "source",
    "source_row",
    "license",
    "label_provenance",
)

#: Optional columns (absent in older or imported suites): the minimal pair an example belongs
#: to, how its label was checked, the pair's shared speech act, what makes the twin allowed, and
#: the split group (twins, a template's variants, near duplicates) that never crosses splits.
OPTIONAL_COLUMNS: tuple[str, ...] = ("pair_id", "review", "form", "contrast", "group")


class Example(BaseModel):
    """One suite row, validated.

    Examples
    --------
    >>> Example(id="core-000001", text="What is a Roth IRA?", topics=["tailored_financial_advice"],
    ...         label="benign", split="test", source="curated", source_row="financial_benign:1",
    ...         license="MIT", label_provenance="curated").label
    'benign'
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=200)
    text: str
    topics: list[str]
    label: Label
    split: Split
    source: str = Field(min_length=1)
    source_row: str = Field(min_length=1)
    license: str = Field(min_length=1)
    label_provenance: LabelProvenance
    pair_id: str | None = Field(default=None, min_length=1, max_length=200)
    review: Review | None = None
    form: str | None = None
    contrast: str | None = None
    group: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("text")
    @classmethod
    def _text_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is empty")
        if len(v) > MAX_TEXT_CHARS:
            raise ValueError(
                f"text is {len(v):,} characters; the limit is {MAX_TEXT_CHARS:,} "
                "(set POLICYBENCH_MAX_TEXT_CHARS to raise it)"
            )
        return v

    @field_validator("source_row", mode="before")
    @classmethod
    def _row_as_str(cls, v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("topics")
    @classmethod
    def _topics_unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("topics repeat")
        return v
