"""openai-moderation: the OpenAI Moderation API (``POST /v1/moderations``).

The labels are the API's own categories, scored by ``category_scores`` and mapped to topics by
a crosswalk: ``openai-moderation-2023`` for ``text-moderation-latest``, ``-stable`` and
``-006``/``-007`` (11 categories), ``omni-moderation`` for ``omni-moderation-*`` (13: the 11
plus ``illicit``, ``illicit/violent``), ``openai-moderation-2022`` for the retired
``text-moderation-001`` .. ``-005`` (7 categories).

Environment: ``OPENAI_API_KEY`` (required), ``OPENAI_BASE_URL`` (default
``https://api.openai.com``; a trailing ``/v1`` is accepted), ``OPENAI_MODERATION_MODEL``
(default ``omni-moderation-latest``).

Texts are sent ``request_batch`` at a time (the API takes a list as ``input``). When a batch
request fails for good, or its answer is malformed, its items are re-sent one by one, so only
the items that fail on their own are recorded as errors (not for HTTP 401/403/404, which
would fail the same way for every item).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.classifiers.base import Taxonomy
from harness.classifiers.hosted._base import HostedClassifier, MalformedAnswer, _EnvSetting
from harness.classifiers.hosted._http import HttpOptions, RequestFailed
from harness.errors import InputError, Problem

#: The categories of the 2022 text-moderation models (text-moderation-001 .. -005).
TEXT_MODERATION_2022_CATEGORIES: tuple[str, ...] = (
    "hate", "hate/threatening", "self-harm", "sexual", "sexual/minors", "violence", "violence/graphic",
)
#: The categories of the 2023 text-moderation models (text-moderation-007, -stable, -latest).
TEXT_MODERATION_CATEGORIES: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening",
    "self-harm", "self-harm/instructions", "self-harm/intent",
    "sexual", "sexual/minors", "violence", "violence/graphic",
)
#: The categories of omni-moderation-* (the 2023 set plus illicit and illicit/violent).
OMNI_MODERATION_CATEGORIES: tuple[str, ...] = TEXT_MODERATION_CATEGORIES + ("illicit", "illicit/violent")

#: Failures that do not depend on the input: a failed batch is not re-sent item by item.
_NOT_ITEM_SPECIFIC = frozenset({401, 403, 404})

TEXT_MODERATION_2022_CROSSWALK = "openai-moderation-2022"
TEXT_MODERATION_CROSSWALK = "openai-moderation-2023"
OMNI_MODERATION_CROSSWALK = "omni-moderation"


def moderation_taxonomy(model: str) -> tuple[str, tuple[str, ...]]:
    """The crosswalk name and category keys of a moderation ``model``.

    Examples
    --------
    >>> moderation_taxonomy("omni-moderation-latest")[0]
    'omni-moderation'
    >>> len(moderation_taxonomy("text-moderation-007")[1]), len(moderation_taxonomy("text-moderation-004")[1])
    (11, 7)
    """
    if model.startswith("omni-moderation"):
        return OMNI_MODERATION_CROSSWALK, OMNI_MODERATION_CATEGORIES
    if re.fullmatch(r"text-moderation-00[1-5]", model):
        return TEXT_MODERATION_2022_CROSSWALK, TEXT_MODERATION_2022_CATEGORIES
    if model.startswith("text-moderation"):
        return TEXT_MODERATION_CROSSWALK, TEXT_MODERATION_CATEGORIES
    raise InputError(Problem(
        f"unknown moderation model {model!r}: expected text-moderation-latest, text-moderation-stable, "
        "text-moderation-007 or omni-moderation-latest (or another omni-moderation-*/text-moderation-* model)",
        field="model",
    ))


class OpenAIModeration(HostedClassifier):
    """The OpenAI Moderation endpoint, scores = ``category_scores``.

    Parameters
    ----------
    model : moderation model; default ``$OPENAI_MODERATION_MODEL`` or ``omni-moderation-latest``.
    base_url : endpoint root; default ``$OPENAI_BASE_URL`` or ``https://api.openai.com``.
    options : :class:`~harness.classifiers.hosted.HttpOptions` (concurrency, timeouts, retries).
    concurrency, timeout, max_attempts, deadline : shortcuts overriding those fields of ``options``
        (``timeout`` is the read timeout; without ``options``, POLICYBENCH_TIMEOUT,
        POLICYBENCH_MAX_ATTEMPTS and POLICYBENCH_DEADLINE give the defaults).
    request_batch : texts per request.

    Examples
    --------
    >>> clf = OpenAIModeration(model="text-moderation-007", base_url="http://127.0.0.1:8000")
    >>> clf.taxonomy.describe(), clf.labels[:2]
    ('crosswalk:openai-moderation-2023', ('harassment', 'harassment/threatening'))
    >>> sorted(clf.config())
    ['adapter', 'base_url', 'model']
    """

    name = "openai-moderation"
    env = _EnvSetting("OPENAI_BASE_URL", "OPENAI_MODERATION_MODEL", "OPENAI_API_KEY", key_required=True,
                      default_base_url="https://api.openai.com", default_model="omni-moderation-latest")
    taxonomy = Taxonomy.for_crosswalk(OMNI_MODERATION_CROSSWALK)
    labels: Sequence[str] = OMNI_MODERATION_CATEGORIES

    def __init__(self, model: str | None = None, *, base_url: str | None = None,
                 options: HttpOptions | None = None, request_batch: int = 16, **http: Any):
        super().__init__(model=model, base_url=base_url, options=options, **http)
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]
        crosswalk, self.labels = moderation_taxonomy(str(self.model))
        self.taxonomy = Taxonomy.for_crosswalk(crosswalk)
        if request_batch < 1:
            raise InputError(Problem("request_batch must be >= 1", field="request_batch"))
        self.request_batch = request_batch

    def _rows(self, body: Any, n: int) -> np.ndarray:
        """Parse a moderation response for ``n`` inputs into an (n, L) array."""
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise MalformedAnswer("expected a JSON object with a 'results' list")
        results = body["results"]
        if len(results) != n:
            raise MalformedAnswer(f"sent {n} inputs, got {len(results)} results")
        out = np.zeros((n, len(self.labels)), dtype=np.float32)
        for i, result in enumerate(results):
            scores = result.get("category_scores") if isinstance(result, dict) else None
            if not isinstance(scores, dict):
                raise MalformedAnswer(f"result {i} has no 'category_scores' object")
            for j, label in enumerate(self.labels):
                value = scores.get(label)
                if isinstance(value, bool) or not isinstance(value, (int, float)) \
                        or not math.isfinite(value) or not 0.0 <= value <= 1.0:
                    raise MalformedAnswer(f"result {i}: category_scores[{label!r}] = {value!r} "
                                          "is not a number in [0, 1]")
                out[i, j] = value
        return out

    def _score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        n, step = len(texts), self.request_batch
        chunks = [list(range(s, min(s + step, n))) for s in range(0, n, step)]
        bodies = [{"model": self.model, "input": [texts[i] for i in c]} for c in chunks]
        replies = self.client().post_many("/v1/moderations", bodies)
        scores = np.zeros((n, len(self.labels)), dtype=np.float32)
        errors: list[str | None] = [None] * n
        retry_alone: list[int] = []
        for chunk, reply in zip(chunks, replies):
            problem: str
            if isinstance(reply, RequestFailed):
                problem = str(reply)
                if reply.status in _NOT_ITEM_SPECIFIC:  # bad key, no access, wrong URL: same for all
                    for i in chunk:
                        errors[i] = problem
                    continue
            else:
                self._note(reply)
                try:
                    scores[chunk] = self._rows(reply.body, len(chunk))
                    continue
                except MalformedAnswer as exc:
                    problem = self._redact(f"malformed answer: {exc}")
            if len(chunk) == 1:
                errors[chunk[0]] = problem
            else:
                retry_alone.extend(chunk)
        if retry_alone:
            alone, alone_errors = self._post_each(
                "/v1/moderations", [{"model": self.model, "input": [texts[i]]} for i in retry_alone],
                lambda body: self._rows(body, 1)[0],
            )
            scores[retry_alone] = alone
            for i, err in zip(retry_alone, alone_errors):
                errors[i] = err
        return scores, errors
