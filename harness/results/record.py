"""The run record: a typed, versioned description of one run (``manifest.json`` in a run folder).

It holds what is needed to trust and to re-score a run without the repository it ran in: the
suite (name, version, content hash, split), **each policy's content** with its hash (so a
stored run re-scores the same way after a policy file changes), the crosswalks' hashes, the
classifier bindings (name, version, configuration hash, labels, taxonomy), the options, package
versions, commit, machine and times.

Format history
--------------
- 1 (before 2026-11-29): an untyped dict with ``policy_versions`` (ids only) and no
  ``format_version``. Read by migration: the policies are taken from the current files and
  the record says so (``migrated_from=1``, ``policies[*].from_disk=True``).
- 2: this model.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import InputError, Problem
from harness.policies import Policy, load_crosswalk, load_policy

FORMAT_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def content_hash(data: Any) -> str:
    """sha256 of the canonical JSON of ``data`` (sorted keys, no whitespace)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class SuiteRecord(_Model):
    name: str
    version: str
    data_hash: str
    split: str | None
    n_examples: int
    path: str | None = None  # relative to the repository when inside it
    labels: dict[str, int] = Field(default_factory=dict)


class PolicyRecord(_Model):
    """One policy version as scored: its id, content hash and the content itself."""

    id: str
    sha256: str
    data: dict[str, Any]
    from_disk: bool = False  # True: migrated from a record that stored the id only

    @classmethod
    def of(cls, policy: Policy) -> PolicyRecord:
        data = policy.model_dump(mode="json")
        return cls(id=policy.id, sha256=content_hash(data), data=data)

    def policy(self) -> Policy:
        """The policy as it was when the run was scored."""
        return Policy.model_validate(self.data)


class ClassifierRecord(_Model):
    """One classifier binding of the run."""

    name: str
    version: str
    binding: str = ""
    cache_key: str
    config_sha256: str | None = None
    taxonomy: str
    labels: list[str]
    batch_size: int = 0
    n_errors: int = 0
    n_computed: int = 0
    n_reused: int = 0
    endpoint: dict[str, Any] = Field(default_factory=dict)


class SkippedBinding(_Model):
    classifier: str
    policy_version: str
    reason: str


class RunRecord(_Model):
    """A run's record (``manifest.json``), format :data:`FORMAT_VERSION`."""

    format_version: Literal[2] = 2  # FORMAT_VERSION
    run_id: str
    suite: SuiteRecord
    policies: list[PolicyRecord]
    crosswalks: dict[str, str] = Field(default_factory=dict)  # name → sha256 of its content
    classifiers: list[ClassifierRecord]
    skipped_bindings: list[SkippedBinding] = Field(default_factory=list)
    options: dict[str, Any]
    packages: dict[str, str] = Field(default_factory=dict)
    git: dict[str, Any] = Field(default_factory=dict)
    machine: dict[str, Any] = Field(default_factory=dict)
    started: str
    finished: str
    migrated_from: int | None = None

    @property
    def policy_versions(self) -> list[str]:
        return [p.id for p in self.policies]

    def load_policies(self) -> list[Policy]:
        """The policies as recorded (not as the files read today)."""
        return [p.policy() for p in self.policies]

    def check_crosswalks(self) -> list[str]:
        """Names of crosswalks whose file changed since the run (their projections would differ)."""
        return [name for name, sha in self.crosswalks.items() if crosswalk_hash(name) != sha]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False, default=str) + "\n"


def crosswalk_hash(name: str) -> str | None:
    """Content hash of crosswalk ``name`` as on disk today (None if it no longer loads)."""
    try:
        return content_hash(load_crosswalk(name).model_dump(mode="json"))
    except Exception:  # noqa: BLE001 - a missing or broken crosswalk simply has no hash
        return None


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k != "policy_versions"}
    out["policies"] = [{**PolicyRecord.of(load_policy(pid)).model_dump(), "from_disk": True}
                       for pid in data.get("policy_versions", [])]
    out["skipped_bindings"] = data.get("skipped_bindings", [])
    out["format_version"] = FORMAT_VERSION
    out["migrated_from"] = 1
    return out


def parse_record(data: Any, *, file: Path | str = "manifest.json") -> RunRecord:
    """Validate a record read from ``file``; migrate format 1; a clear error for anything else."""
    if not isinstance(data, dict):
        raise InputError(Problem("a run record must be a JSON object", file=str(file), field="format_version"))
    version = data.get("format_version", 1)
    if version == 1:
        warnings.warn(f"{file}: a format-1 run record (policy ids only); its policies are read from today's "
                      "files, so a policy edited since the run changes its re-scored numbers", stacklevel=3)
        data = _migrate_v1(data)
    elif version != FORMAT_VERSION:
        raise InputError(Problem(f"run record format {version!r} is not supported by this version of "
                                 f"policybench (it reads formats 1 and {FORMAT_VERSION})",
                                 file=str(file), field="format_version"))
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(e["msg"], file=str(file), field=".".join(str(x) for x in e["loc"]))
                          for e in exc.errors()]) from None


def read_record(path: Path) -> RunRecord:
    """Read ``manifest.json`` (a clear error naming the file if it is not valid JSON)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(Problem(f"cannot read the run record: {exc}", file=str(path), line=line)) from None
    return parse_record(data, file=path)
