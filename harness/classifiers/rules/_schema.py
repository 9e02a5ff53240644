"""The rule-pack file format as pydantic models: :class:`RulePackFile` and :class:`RuleSpec`.

The format is described in :mod:`harness.classifiers.rules.pack`. :func:`read_pack_file`
reads one file (without following ``extends``) through :mod:`harness._yaml`, so every problem
is reported at once with its file, line and field. A problem inside a rule is reported at the
rule's first line and names the rule by its id: ``categories.adult.rules[dating_apps].weight``.
What needs more than one file (``extends`` and the changes made to the base) is checked in
:mod:`harness.classifiers.rules._packfile`.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from harness._yaml import LineMap, Loc, Locate, check_format_version, read_yaml, validate
from harness.classifiers.rules._regex import compile_regex
from harness.errors import InputError, Problem
from harness.policies.model import CATEGORY_KEYS


def _as_text(v: Any) -> Any:
    # An unquoted ``policy_version: 2023-02-15`` is a date to YAML; ``pack_version: 1`` a number.
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


def _empty_if_none(default: type) -> BeforeValidator:
    return BeforeValidator(lambda v: default() if v is None else v)


def _nonblank(v: str) -> str:
    if not v.strip():
        raise ValueError("must be a non-empty string")
    return v


def _compiles(pattern: str) -> str:
    rx, err = compile_regex(pattern)
    if rx is None:
        raise ValueError(err or "invalid regex")
    return pattern


def _weight(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) <= 1:
        raise ValueError(f"weight must be in (0, 1], got {v!r}")
    return float(v)


def _category_key(v: str) -> str:
    if v not in CATEGORY_KEYS:
        raise ValueError(f"unknown category key {v!r}; use one of: {', '.join(CATEGORY_KEYS)}")
    return v


Text = Annotated[str, AfterValidator(_nonblank)]
Pattern = Annotated[str, AfterValidator(_nonblank), AfterValidator(_compiles)]
CategoryKey = Annotated[str, AfterValidator(_category_key)]
#: ``None`` is an empty list and one string a list of one.
Texts = Annotated[list[Text], BeforeValidator(_as_list), _empty_if_none(list)]
Patterns = Annotated[list[Pattern], BeforeValidator(_as_list), _empty_if_none(list)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Strict):
    """One rule as written: literal ``terms`` and/or ``regex`` patterns with a weight.

    Examples
    --------
    >>> RuleSpec(id="dating_apps", topic="dating_apps", weight=0.7, terms="tinder").terms
    ['tinder']
    >>> from pydantic import ValidationError
    >>> try:
    ...     RuleSpec(id="x", weight=2, regex=["(unclosed"])
    ... except ValidationError as e:
    ...     print([(err["loc"], err["msg"].split(":")[0]) for err in e.errors()])
    [(('weight',), 'Value error, weight must be in (0, 1], got 2'), (('regex', 0), "Value error, invalid regex '(unclosed'")]
    """

    id: str = Field(min_length=1)
    topic: str | None = None
    weight: Annotated[float, BeforeValidator(_weight)] = 0.5
    terms: Texts = []
    regex: Patterns = []
    note: str | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> RuleSpec:
        if not self.terms and not self.regex:
            raise ValueError("a rule needs terms or regex")
        return self


class CategoryRules(_Strict):
    """The rules of one category."""

    rules: list[RuleSpec]


class RulePackFile(_Strict):
    """One rule-pack file as written (``extends`` not yet followed).

    Examples
    --------
    >>> f = RulePackFile.model_validate({"policy_version": "2024-01-10", "extends": "_library",
    ...                                  "drop_topics": ["mlm"], "move_topics": {"mlm": "illegal"}})
    >>> f.format_version, f.pack_version, f.drop_topics, f.categories
    (1, '1', ['mlm'], {})
    """

    format_version: Literal[1] = 1
    policy_version: Annotated[str | None, BeforeValidator(_as_text)] = None
    pack_version: Annotated[str, BeforeValidator(_as_text)] = "1"
    extends: Annotated[str | None, BeforeValidator(_as_text)] = None
    description: str = ""
    notes: str = ""
    drop_categories: Annotated[list[str], _empty_if_none(list)] = []
    drop_topics: Annotated[list[str], _empty_if_none(list)] = []
    drop_rules: Annotated[dict[str, Annotated[list[str], BeforeValidator(_as_list)]], _empty_if_none(dict)] = {}
    move_topics: Annotated[dict[str, CategoryKey], _empty_if_none(dict)] = {}
    categories: Annotated[dict[CategoryKey, CategoryRules], _empty_if_none(dict)] = {}

    @property
    def changes_base(self) -> bool:
        """Whether the file drops or moves anything of a base pack."""
        return bool(self.drop_categories or self.drop_topics or self.drop_rules or self.move_topics)


def _rule_locator(data: dict) -> Locate:
    """Name a problem inside a rule by the rule's id and report it at the rule's first line."""

    def locate(loc: Loc) -> tuple[Loc, str | None]:
        loc = tuple(x for x in loc if x != "[key]")
        if len(loc) >= 4 and loc[0] == "categories" and loc[2] == "rules" and isinstance(loc[3], int):
            try:
                rid = data["categories"][loc[1]]["rules"][loc[3]]["id"]
            except (KeyError, IndexError, TypeError):
                rid = None
            name = rid if isinstance(rid, str) and rid else loc[3]
            field = ".".join([f"categories.{loc[1]}.rules[{name}]", *map(str, loc[4:])])
            return loc[:4], field
        return loc, ".".join(str(x) for x in loc) or None

    return locate


def read_pack_file(path: Path) -> tuple[RulePackFile, LineMap]:
    """Read and validate one rule-pack file; returns ``(file, line map)``.

    Raises
    ------
    harness.errors.InputError
        For a missing file, bad YAML, an unknown ``format_version`` or any schema problem (all
        of them at once, each with file, line and field).
    """
    if not path.is_file():
        raise InputError(Problem("rule pack not found", file=str(path)))
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(Problem("a rule pack must be a mapping", file=str(path)))
    check_format_version(data, path, lines)
    return validate(RulePackFile, data, path, lines, locate=_rule_locator(data)), lines
