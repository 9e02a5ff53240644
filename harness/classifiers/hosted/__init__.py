"""Hosted adapters: classifiers behind an HTTP API.

- ``openai-moderation`` (:class:`OpenAIModeration`): ``POST /v1/moderations``; labels are the
  API's categories, mapped to topics by the ``openai-moderation-2023`` / ``omni-moderation``
  crosswalk.
- ``guard-llm`` (:class:`GuardLLM`): a Llama-Guard-style model on an OpenAI-compatible chat
  endpoint, prompted with the categories of the policy version under test.
- ``llm-judge`` (:class:`LLMJudge`): any chat model, given the policy version's text, answering
  per-category verdicts as JSON.

Keys come from environment variables only (``OPENAI_API_KEY``, ``GUARD_LLM_API_KEY``,
``JUDGE_API_KEY``) and never appear in ``config()``, ``describe()``, ``endpoint_info()``,
``repr`` or error messages; whatever a server sends back (reported model, system fingerprint,
headers, error bodies) is redacted before it is kept. A key that cannot be sent in a header (a
stray newline) is an :class:`~harness.errors.InputError` naming its variable before any request.
Requests share :class:`JsonClient`: bounded concurrency, timeouts, retries with backoff on
429/5xx/timeouts (see :class:`HttpOptions`), a deadline for the run, and Ctrl-C that returns at
once even while an endpoint hangs. ``policybench run --timeout/--max-attempts/--deadline`` (or
``POLICYBENCH_TIMEOUT``, ``POLICYBENCH_MAX_ATTEMPTS``, ``POLICYBENCH_DEADLINE``) set them.

Besides ``predict``, each adapter has ``predict_with_errors(texts) -> (scores, errors)`` (a
failed item gets zeros and a message; the others are unaffected) and ``endpoint_info()`` (the
model name and ``system_fingerprint`` the endpoint reported, and request counters) for the
run manifest. The runner never stores a failed item in the prediction cache, so the next run
asks the endpoint again for exactly the items that failed (after a 429, a 5xx, a timeout, a
rejected key or an answer that could not be parsed).
"""

from harness.classifiers.hosted._base import HostedClassifier, HostedItemErrors, MalformedAnswer
from harness.classifiers.hosted._http import (
    Deadline,
    HttpOptions,
    JsonClient,
    RequestFailed,
    check_key,
    key_problem,
    redact,
    redact_value,
)
from harness.classifiers.hosted.guard_llm import GuardLLM, first_token_p_unsafe, parse_guard_answer
from harness.classifiers.hosted.llm_judge import CategoryVerdict, LLMJudge, parse_judge_answer
from harness.classifiers.hosted.openai_moderation import (
    OMNI_MODERATION_CATEGORIES,
    TEXT_MODERATION_2022_CATEGORIES,
    TEXT_MODERATION_CATEGORIES,
    OpenAIModeration,
    moderation_taxonomy,
)

__all__ = [
    "CategoryVerdict",
    "Deadline",
    "GuardLLM",
    "HostedClassifier",
    "HostedItemErrors",
    "HttpOptions",
    "JsonClient",
    "LLMJudge",
    "MalformedAnswer",
    "OMNI_MODERATION_CATEGORIES",
    "OpenAIModeration",
    "RequestFailed",
    "TEXT_MODERATION_2022_CATEGORIES",
    "TEXT_MODERATION_CATEGORIES",
    "check_key",
    "first_token_p_unsafe",
    "key_problem",
    "moderation_taxonomy",
    "parse_guard_answer",
    "parse_judge_answer",
    "redact",
    "redact_value",
]
