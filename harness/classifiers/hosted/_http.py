"""The HTTP client shared by the hosted adapters: JSON POSTs with retries, timeouts, concurrency.

One :class:`JsonClient` talks to one endpoint. It sends each request with an httpx client,
retries (tenacity) with exponential backoff and full jitter on HTTP 429, HTTP 5xx, timeouts
and dropped connections, honours ``Retry-After`` and never retries another 4xx. Many requests
run on a thread pool of ``concurrency`` workers; a request that still fails comes back as a
:class:`RequestFailed` in its slot, so one bad item never stops a batch.

The API key is read from an environment variable at each request (an :class:`httpx.Auth`
hook); it is never stored on an object, and every error message is passed through
:func:`redact` so a key echoed by a server cannot leak into results or logs.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import httpx
import tenacity

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",}]+")
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}")


def redact(text: str, *, secret_envs: Sequence[str] = ()) -> str:
    """Remove API keys from ``text``: the values of ``secret_envs``, bearer tokens, ``sk-`` keys.

    Examples
    --------
    >>> redact("401: bad header Authorization: Bearer abc.def")
    '401: bad header Authorization: Bearer ***'
    >>> redact("key sk-test-123456 rejected")
    'key sk-*** rejected'
    """
    for env in secret_envs:
        value = os.environ.get(env, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    text = _BEARER.sub(r"\1***", text)
    return _SK_KEY.sub("sk-***", text)


def public_url(url: str) -> str:
    """``url`` without user info, query or fragment (what may be shown and hashed).

    Examples
    --------
    >>> public_url("https://user:pw@llm.example.org:8443/v1?key=abc")
    'https://llm.example.org:8443/v1'
    """
    try:
        u = httpx.URL(url)
    except Exception:  # noqa: BLE001 - an invalid URL is shown without its query part
        return url.split("?")[0].split("#")[0]
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}{u.path}".rstrip("/") if u.host else url.split("?")[0]


@dataclass(frozen=True)
class HttpOptions:
    """How a :class:`JsonClient` sends requests. None of these change a prediction.

    Parameters
    ----------
    concurrency : requests in flight at once (thread-pool size).
    connect_timeout, read_timeout : seconds, per attempt.
    max_attempts : attempts per request, the first included (1 = no retry).
    backoff_initial, backoff_max : the exponential backoff (seconds) between attempts; each
        wait is drawn uniformly from ``[0, min(backoff_max, backoff_initial * 2**attempt)]``.
    max_retry_after : a server's ``Retry-After`` is honoured up to this many seconds.
    deadline : optional seconds per request, all attempts and waits included; no new attempt
        starts after it (one attempt in flight may still run up to its timeouts).

    Examples
    --------
    >>> HttpOptions(concurrency=2, max_attempts=3).max_attempts
    3
    """

    concurrency: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be > 0")

    def with_overrides(self, **changes: Any) -> "HttpOptions":
        """A copy with the given fields changed (None values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes) if changes else self


class RequestFailed(Exception):
    """A request that failed for good (after retries, or not retryable). The message is redacted.

    ``status`` is the last HTTP status (None for a timeout or network error), ``attempts``
    the number of attempts made, ``kind`` one of ``http``, ``timeout``, ``network``,
    ``malformed``.
    """

    def __init__(self, message: str, *, kind: str, status: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"RequestFailed({str(self)!r}, kind={self.kind!r}, status={self.status})"


class _Retryable(Exception):
    def __init__(self, message: str, *, kind: str, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Reply:
    """A successful response: the parsed JSON body, the HTTP status and the attempts it took."""

    body: Any
    status: int
    attempts: int
    headers: dict[str, str] = field(default_factory=dict)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), else None.

    Examples
    --------
    >>> parse_retry_after("2")
    2.0
    >>> parse_retry_after("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _BearerFromEnv(httpx.Auth):
    """Adds ``Authorization: Bearer $ENV`` at send time, so no object holds the key."""

    def __init__(self, env: str | None):
        self._env = env

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        key = os.environ.get(self._env, "") if self._env else ""
        if key:
            request.headers["Authorization"] = f"Bearer {key}"
        yield request

    def __repr__(self) -> str:
        return f"_BearerFromEnv(env={self._env!r})"


class _Wait(tenacity.wait.wait_base):
    """Retry-After when the server sent one (capped), else exponential backoff with full jitter."""

    def __init__(self, options: HttpOptions):
        self._options = options
        self._jitter = tenacity.wait_random_exponential(
            multiplier=options.backoff_initial, max=options.backoff_max
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(after, self._options.max_retry_after)
        return self._jitter(retry_state)


class JsonClient:
    """POST JSON to one endpoint with retries, timeouts and bounded concurrency.

    Parameters
    ----------
    base_url : the endpoint root, e.g. ``https://api.openai.com``.
    api_key_env : the environment variable holding the bearer token (None: no auth header).
    options : :class:`HttpOptions`.

    Examples
    --------
    >>> c = JsonClient("http://127.0.0.1:9", api_key_env="NO_SUCH_KEY_VAR",
    ...                options=HttpOptions(max_attempts=1, connect_timeout=0.5))
    >>> out = c.post_many("/v1/x", [{"a": 1}])
    >>> type(out[0]).__name__, out[0].kind
    ('RequestFailed', 'network')
    >>> c.close()
    """

    def __init__(self, base_url: str, *, api_key_env: str | None = None,
                 options: HttpOptions | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.options = options or HttpOptions()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "attempts": 0, "retries": 0, "failed": 0}

    def __repr__(self) -> str:
        return f"JsonClient(base_url={public_url(self.base_url)!r}, api_key_env={self.api_key_env!r})"

    # -- lifecycle ---------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                o = self.options
                self._client = httpx.Client(
                    base_url=self.base_url,
                    auth=_BearerFromEnv(self.api_key_env),
                    timeout=httpx.Timeout(o.read_timeout, connect=o.connect_timeout),
                    limits=httpx.Limits(max_connections=o.concurrency,
                                        max_keepalive_connections=o.concurrency),
                    headers={"Content-Type": "application/json", "User-Agent": "policybench"},
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> "JsonClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def _redact(self, text: str) -> str:
        return redact(text, secret_envs=[self.api_key_env] if self.api_key_env else [])

    # -- one attempt -------------------------------------------------------------------------
    def _attempt(self, path: str, body: Any) -> Reply:
        self._count("attempts")
        where = f"POST {public_url(self.base_url)}{path}"
        try:
            resp = self._http().post(path, content=json.dumps(body))
        except httpx.TimeoutException as exc:
            raise _Retryable(f"{where}: timed out ({type(exc).__name__})", kind="timeout") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"{where}: {type(exc).__name__}: {self._redact(str(exc))}",
                             kind="network") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retryable(
                f"{where}: HTTP {status}: {self._redact(resp.text[:300])}", kind="http",
                status=status, retry_after=parse_retry_after(resp.headers.get("retry-after")),
            )
        if status >= 400:
            raise RequestFailed(f"{where}: HTTP {status}: {self._redact(resp.text[:300])}",
                                kind="http", status=status)
        try:
            parsed = resp.json()
        except ValueError:
            raise RequestFailed(
                f"{where}: HTTP {status} with a body that is not JSON: {self._redact(resp.text[:120])!r}",
                kind="malformed", status=status,
            ) from None
        headers = {k: v for k, v in resp.headers.items() if k.lower() in _KEPT_HEADERS}
        return Reply(body=parsed, status=status, attempts=0, headers=headers)

    # -- public ------------------------------------------------------------------------------
    def post(self, path: str, body: Any) -> Reply:
        """POST ``body`` as JSON to ``path``, retrying; raise :class:`RequestFailed` on failure."""
        o = self.options
        stop = tenacity.stop_after_attempt(o.max_attempts)
        if o.deadline is not None:
            stop = stop | tenacity.stop_after_delay(o.deadline)
        retrying = tenacity.Retrying(
            stop=stop, wait=_Wait(o), retry=tenacity.retry_if_exception_type(_Retryable),
            reraise=True, sleep=time.sleep,
        )
        self._count("requests")
        attempts = 0
        try:
            for attempt in retrying:
                attempts = attempt.retry_state.attempt_number
                if attempts > 1:
                    self._count("retries")
                with attempt:
                    reply = self._attempt(path, body)
        except _Retryable as exc:
            self._count("failed")
            raise RequestFailed(
                f"{self._redact(str(exc))} (gave up after {attempts} attempt{'s' if attempts != 1 else ''})",
                kind=exc.kind, status=exc.status, attempts=attempts,
            ) from None
        except RequestFailed as exc:
            self._count("failed")
            exc.attempts = attempts
            raise
        return Reply(body=reply.body, status=reply.status, attempts=attempts, headers=reply.headers)

    def post_many(self, path: str, bodies: Sequence[Any]) -> list[Reply | RequestFailed]:
        """POST each body (up to ``concurrency`` at once); each slot is a Reply or a RequestFailed."""

        def one(body: Any) -> Reply | RequestFailed:
            try:
                return self.post(path, body)
            except RequestFailed as exc:
                return exc

        if len(bodies) <= 1 or self.options.concurrency == 1:
            return [one(b) for b in bodies]
        with ThreadPoolExecutor(max_workers=min(self.options.concurrency, len(bodies)),
                                thread_name_prefix="policybench-http") as pool:
            return list(pool.map(one, bodies))


_KEPT_HEADERS = {"openai-model", "openai-version", "x-model", "server"}
