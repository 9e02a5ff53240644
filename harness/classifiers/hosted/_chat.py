"""Policy-conditioned adapters over an OpenAI-compatible ``POST /v1/chat/completions``.

A :class:`ChatPolicyClassifier` is unbound until :meth:`~ChatPolicyClassifier.for_policy` gives it
a policy version; its labels are then that version's category keys (taxonomy
``policy:<version>``) and its prompt is filled with that version's text. A hash of the filled
prompt (all but the text under test) is in :meth:`config`, so editing a policy's wording
changes the cache key.

Optional request parameters that some servers reject (``logprobs``, ``response_format``) are
dropped for the rest of the run when the server answers HTTP 400 naming them, and the item is
sent again without them.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.classifiers.base import Taxonomy
from harness.classifiers.hosted._base import HostedClassifier, MalformedAnswer
from harness.classifiers.hosted._http import HttpOptions, RequestFailed
from harness.classifiers.hosted._policy_text import CategoryText, policy_categories, policy_id
from harness.errors import ClassifierError

CHAT_PATH = "/v1/chat/completions"


def chat_content(body: Any) -> str:
    """The text of the first choice of a chat-completions response.

    Examples
    --------
    >>> chat_content({"choices": [{"message": {"role": "assistant", "content": "safe"}}]})
    'safe'
    """
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise MalformedAnswer("expected choices[0].message.content in the response") from None
    if not isinstance(content, str):
        raise MalformedAnswer("choices[0].message.content is not a string")
    return content


def chat_logprobs(body: Any) -> list[dict[str, Any]] | None:
    """``choices[0].logprobs.content`` (one dict per generated token) when the server sent it."""
    try:
        content = body["choices"][0]["logprobs"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, list) else None


class ChatPolicyClassifier(HostedClassifier):
    """Base of guard-llm and llm-judge: policy binding, chat requests, parameter fallback."""

    policy_conditioned = True
    taxonomy = Taxonomy("policy")
    labels: Sequence[str] = ()
    #: Bump when the prompt text or its parsing changes (it is in config()).
    prompt_template_version = "0"
    #: Optional request parameters dropped (for the run) if the server rejects them.
    optional_params: tuple[str, ...] = ()

    def __init__(self, model: str | None = None, *, base_url: str | None = None,
                 options: HttpOptions | None = None, max_tokens: int = 64, temperature: float = 0.0,
                 **http: Any):
        super().__init__(model=model, base_url=base_url, options=options, **http)
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.policy: Any = None
        self.categories: list[CategoryText] = []
        self._policy_text = ""
        self._dropped: set[str] = set()
        self._drop_lock = threading.Lock()

    # -- policy binding ----------------------------------------------------------------------
    def for_policy(self, policy: Any) -> ChatPolicyClassifier:
        """A copy bound to ``policy``: labels = its category keys, prompt = its text."""
        bound = copy.copy(self)
        bound._fresh_state()
        bound._dropped = set(self._dropped)
        bound._drop_lock = threading.Lock()
        bound.policy = policy
        bound.categories = policy_categories(policy)
        if not bound.categories:
            raise ClassifierError(f"classifier {self.name!r}: policy {policy_id(policy)!r} has no categories")
        bound.labels = tuple(c.key for c in bound.categories)
        bound.taxonomy = Taxonomy.for_policy(policy_id(policy))
        bound._policy_text = bound.render_policy()
        return bound

    def render_policy(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def prompt_fingerprint(self) -> str:
        """Everything the prompt holds except the text under test (hashed into config())."""
        return self._policy_text

    def _require_policy(self) -> None:
        if self.policy is None:
            raise ClassifierError(
                f"classifier {self.name!r} is policy-conditioned: call for_policy(policy) before predict()"
            )

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.policy is None:
            out["taxonomy"] = "policy:<version under test>"
        return out

    def config(self) -> dict[str, Any]:
        out = super().config()
        out.update({
            "prompt_template_version": self.prompt_template_version,
            "policy": policy_id(self.policy) if self.policy is not None else None,
            "prompt_sha256": (hashlib.sha256(self.prompt_fingerprint().encode()).hexdigest()[:16]
                              if self.policy is not None else None),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        })
        return out

    # -- requests ----------------------------------------------------------------------------
    def request_body(self, text: str) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, body: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _body(self, text: str) -> dict[str, Any]:
        body = self.request_body(text)
        for name in self._dropped:
            body.pop(name, None)
            if name == "logprobs":
                body.pop("top_logprobs", None)
        return body

    def _rejected_param(self, failure: RequestFailed) -> str | None:
        if failure.status != 400:
            return None
        text = str(failure).lower()
        for name in self.optional_params:
            if name in text:
                return name
        return None

    def _score(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        self._require_policy()
        client = self.client()
        replies = client.post_many(CHAT_PATH, [self._body(t) for t in texts])
        # Optional parameters the server refused: drop them for the run, send those items again.
        retry = []
        for i, reply in enumerate(replies):
            name = self._rejected_param(reply) if isinstance(reply, RequestFailed) else None
            if name:
                with self._drop_lock:
                    self._dropped.add(name)
                retry.append(i)
        if retry:
            again = client.post_many(CHAT_PATH, [self._body(texts[i]) for i in retry])
            for i, reply in zip(retry, again):
                replies[i] = reply
        return self._collect(replies, self.parse)
