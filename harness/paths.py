"""Where PolicyBench finds its data and writes its results.

The repository layout is the default: ``datasets/`` and ``results/`` next to the ``harness``
package. ``POLICYBENCH_HOME`` points somewhere else (a checkout of the repository), and
``POLICYBENCH_RESULTS`` redirects results alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The PolicyBench home: ``$POLICYBENCH_HOME`` or the folder that holds ``harness/``."""
    env = os.environ.get("POLICYBENCH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """``<home>/datasets``: policies, suites, their sources and rule packs."""
    return repo_root() / "datasets"


def policies_dir() -> Path:
    return datasets_dir() / "policies"


def suites_dir() -> Path:
    return datasets_dir() / "suites"


def sources_dir() -> Path:
    return datasets_dir() / "sources"


def rules_dir() -> Path:
    return datasets_dir() / "rules"


def results_dir() -> Path:
    """``$POLICYBENCH_RESULTS`` or ``<home>/results``."""
    env = os.environ.get("POLICYBENCH_RESULTS")
    if env:
        return Path(env).expanduser().resolve()
    return repo_root() / "results"


def cache_dir() -> Path:
    """The prediction cache folder: ``$POLICYBENCH_CACHE`` or ``<home>/.cache/policybench``."""
    env = os.environ.get("POLICYBENCH_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return repo_root() / ".cache" / "policybench"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def as_umask(path: Path, *, directory: bool = False) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would (``mkstemp``/``mkdtemp`` make it private).

    Examples
    --------
    >>> import os, tempfile, stat
    >>> fd, p = tempfile.mkstemp(); os.close(fd)
    >>> as_umask(Path(p)); stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~_umask()
    True
    >>> os.unlink(p)
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())
