"""The HTTP client shared by the hosted adapters: JSON POSTs with retries, timeouts, concurrency.

One :class:`JsonClient` talks to one endpoint. It sends each request with an httpx client,
retries with exponential backoff and full jitter on HTTP 429, HTTP 5xx, timeouts and dropped
connections, honours ``Retry-After`` and never retries another 4xx. Many requests run on up to
``concurrency`` daemon worker threads; a request that still fails comes back as a
:class:`RequestFailed` in its slot, so one bad item never stops a batch.

Stopping. Ctrl-C (KeyboardInterrupt in the calling thread) returns at once: no new attempt or
retry starts, waits between attempts end, and requests still in flight are abandoned (their
threads are daemons, so they never hold up the process's exit). A :class:`Deadline` (the
run's ``deadline`` seconds) caps every attempt's timeouts by the time left; once it has
passed nothing more is sent and the items not done fail with kind ``deadline``.

The API key is read from an environment variable at each request (an :class:`httpx.Auth`
hook); it is never stored on an object. A key that cannot be a header value (a stray newline,
a space, a non-ASCII character) is an :class:`~harness.errors.InputError` naming the variable
before anything is sent (:func:`key_problem`). Everything kept from a response (error
messages, headers) is passed through :func:`redact` so a key echoed by a server cannot leak
into results or logs.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import os
import queue
import random
import re
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.errors import InputError, Problem
from harness.options import DEFAULT_DEADLINE, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT, RequestOptions

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


def redact_value(value: Any, *, secret_envs: Sequence[str] = ()) -> Any:
    """:func:`redact` applied to every string inside ``value`` (dicts, lists, tuples; keys too).

    Examples
    --------
    >>> redact_value({"model": "m sk-test-abcdef", "n": 2, "fp": ["Bearer xyz"]})
    {'model': 'm sk-***', 'n': 2, 'fp': ['Bearer ***']}
    """
    if isinstance(value, str):
        return redact(value, secret_envs=secret_envs)
    if isinstance(value, dict):
        return {redact_value(k, secret_envs=secret_envs): redact_value(v, secret_envs=secret_envs)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, secret_envs=secret_envs) for v in value)
    return value


_KEY_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", " ": "a space"}


def key_problem(env: str | None) -> Problem | None:
    """Why the value of ``env`` cannot be sent as a bearer token, or None (never shows the value).

    A key must be printable ASCII without spaces (what an HTTP header can carry); a stray
    newline, e.g. from ``export KEY=$(cat key.txt)`` of a file written by an editor, is not.

    Examples
    --------
    >>> import os
    >>> os.environ["PB_DOC_KEY"] = "sk-abc123\\n"
    >>> print(key_problem("PB_DOC_KEY"))
    field 'PB_DOC_KEY': the API key ends with a newline, which an HTTP header cannot carry; set the variable without it
    >>> os.environ["PB_DOC_KEY"] = "sk-abc123"
    >>> key_problem("PB_DOC_KEY") is None
    True
    >>> del os.environ["PB_DOC_KEY"]
    """
    if not env:
        return None
    value = os.environ.get(env) or ""
    for i, ch in enumerate(value):
        if "\x21" <= ch <= "\x7e":
            continue
        if ch in _KEY_NAMES:
            what = _KEY_NAMES[ch]
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            what = f"the control character U+{ord(ch):04X}"
        else:
            what = "a non-ASCII character"
        where = ("ends with" if i == len(value) - 1 else "starts with" if i == 0
                 else f"has, at character {i + 1} of {len(value)},")
        return Problem(f"the API key {where} {what}, which an HTTP header cannot carry; "
                       "set the variable without it", field=env)
    return None


def check_key(env: str | None) -> None:
    """Raise :class:`~harness.errors.InputError` naming ``env`` when :func:`key_problem` finds one."""
    problem = key_problem(env)
    if problem is not None:
        raise InputError(problem)


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

    The defaults of ``read_timeout``, ``max_attempts`` and ``deadline`` are those of
    :class:`harness.options.RequestOptions` (``policybench run --timeout/--max-attempts/--deadline``);
    :meth:`from_env` reads them from ``POLICYBENCH_TIMEOUT``, ``POLICYBENCH_MAX_ATTEMPTS`` and
    ``POLICYBENCH_DEADLINE``.

    Parameters
    ----------
    concurrency : requests in flight at once (worker threads).
    connect_timeout, read_timeout : seconds, per attempt.
    max_attempts : attempts per request, the first included (1 = no retry).
    backoff_initial, backoff_max : the exponential backoff (seconds) between attempts; each
        wait is drawn uniformly from ``[0, min(backoff_max, backoff_initial * 2**attempt)]``.
    max_retry_after : a server's ``Retry-After`` is honoured up to this many seconds.
    deadline : optional seconds for all requests of a run (of one classifier, counted from when
        it, or the client, was made): no attempt starts after it, an attempt in flight is cut at
        it (its timeouts are capped by the time left) and the items not done fail with kind
        ``deadline``.

    Examples
    --------
    >>> HttpOptions(concurrency=2, max_attempts=3).max_attempts
    3
    >>> HttpOptions().read_timeout, HttpOptions().max_attempts, HttpOptions().deadline
    (60.0, 5, None)
    """

    concurrency: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    deadline: float | None = DEFAULT_DEADLINE

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be > 0")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError("deadline must be > 0 (or None)")

    @classmethod
    def from_request_options(cls, request: RequestOptions) -> HttpOptions:
        """The options that :class:`~harness.options.RequestOptions` sets (the rest default)."""
        return cls(read_timeout=float(request.timeout), connect_timeout=min(10.0, float(request.timeout)),
                   max_attempts=request.max_attempts,
                   deadline=None if request.deadline is None else float(request.deadline))

    @classmethod
    def from_env(cls) -> HttpOptions:
        """:meth:`from_request_options` of ``RequestOptions.from_env()`` (InputError naming a bad variable)."""
        return cls.from_request_options(RequestOptions.from_env())

    def with_overrides(self, **changes: Any) -> HttpOptions:
        """A copy with the given fields changed (None values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes) if changes else self


class Deadline:
    """The moment after which a run sends no more requests: ``seconds`` from now (None: never).

    Shared by a classifier and its policy-bound copies, so a run's deadline covers all of them.

    Examples
    --------
    >>> Deadline(None).left() is None, Deadline(30).passed()
    (True, False)
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self._at = None if seconds is None else time.monotonic() + float(seconds)

    def left(self) -> float | None:
        """Seconds left (negative once passed), or None without a deadline."""
        return None if self._at is None else self._at - time.monotonic()

    def passed(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def __repr__(self) -> str:
        return f"Deadline(seconds={self.seconds!r}, left={self.left()!r})"


class RequestFailed(Exception):
    """A request that failed for good (after retries, or not retryable). The message is redacted.

    ``status`` is the last HTTP status (None for a timeout or network error), ``attempts``
    the number of attempts made, ``kind`` one of ``http``, ``timeout``, ``network``,
    ``malformed``, ``deadline`` (the run's deadline passed) or ``cancelled`` (interrupted).
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


@dataclass
class _Crash:
    """An exception other than a request failure, raised in a worker, re-raised by the caller."""

    exc: BaseException


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

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = os.environ.get(self._env, "") if self._env else ""
        if key:
            check_key(self._env)  # a key changed since the last check: still never a network error
            request.headers["Authorization"] = f"Bearer {key}"
        yield request

    def __repr__(self) -> str:
        return f"_BearerFromEnv(env={self._env!r})"


class _RedactLogs(logging.Filter):
    """Redacts keys from the records of httpx/httpcore loggers (their DEBUG traces show the
    response headers a server sent, which may echo the key)."""

    envs: set[str] = set()  # the key variables of every JsonClient made so far

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's business, not ours
            return True
        clean = redact(message, secret_envs=sorted(self.envs))
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_LOG_FILTER = _RedactLogs()
for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
              "httpcore.socks"):
    logging.getLogger(_name).addFilter(_LOG_FILTER)


#: Seconds the caller waits past the deadline for requests in flight before abandoning them.
_DEADLINE_GRACE = 2.0
#: How often a waiting caller wakes up (to notice the deadline; Ctrl-C interrupts at once).
_POLL = 0.25


class JsonClient:
    """POST JSON to one endpoint with retries, timeouts, bounded concurrency and a deadline.

    Parameters
    ----------
    base_url : the endpoint root, e.g. ``https://api.openai.com``.
    api_key_env : the environment variable holding the bearer token (None: no auth header).
    options : :class:`HttpOptions`.
    deadline : a :class:`Deadline` shared with other clients (default: ``options.deadline``
        seconds from now).

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
                 options: HttpOptions | None = None, deadline: Deadline | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        if api_key_env:
            _RedactLogs.envs.add(api_key_env)
        self.options = options or HttpOptions()
        self.deadline = deadline if deadline is not None else Deadline(self.options.deadline)
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

    def _abandon(self) -> None:
        """Forget the httpx client whose connections abandoned requests still hold (never blocks)."""
        with self._lock:
            self._client = None

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def _redact(self, text: str) -> str:
        return redact(text, secret_envs=[self.api_key_env] if self.api_key_env else [])

    def _where(self, path: str) -> str:
        return f"POST {public_url(self.base_url)}{path}"

    def _deadline_text(self) -> str:
        return f"the run's deadline of {self.deadline.seconds:g} s has passed"

    # -- one attempt -------------------------------------------------------------------------
    def _attempt(self, path: str, body: Any) -> Reply:
        where = self._where(path)
        o = self.options
        read, connect = o.read_timeout, o.connect_timeout
        left = self.deadline.left()
        if left is not None:
            if left <= 0:
                raise RequestFailed(f"{where}: not sent: {self._deadline_text()}", kind="deadline")
            read, connect = min(read, left), min(connect, left)
        self._count("attempts")
        try:
            resp = self._http().post(path, content=json.dumps(body), timeout=httpx.Timeout(read, connect=connect))
        except httpx.TimeoutException as exc:
            if self.deadline.passed():
                raise RequestFailed(f"{where}: cut: {self._deadline_text()}", kind="deadline") from None
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
        headers = {k: self._redact(v) for k, v in resp.headers.items() if k.lower() in _KEPT_HEADERS}
        return Reply(body=parsed, status=status, attempts=0, headers=headers)

    def _backoff(self, exc: _Retryable, attempt: int) -> float:
        """Retry-After when the server sent one (capped), else exponential backoff with full jitter."""
        o = self.options
        if exc.retry_after is not None:
            return min(exc.retry_after, o.max_retry_after)
        return random.uniform(0.0, min(o.backoff_max, o.backoff_initial * 2 ** (attempt - 1)))

    def _give_up(self, message: str, *, kind: str, status: int | None, attempts: int) -> RequestFailed:
        self._count("failed")
        return RequestFailed(message, kind=kind, status=status, attempts=attempts)

    # -- public ------------------------------------------------------------------------------
    def check_key(self) -> None:
        """Raise :class:`~harness.errors.InputError` naming the key's variable if it cannot be sent."""
        check_key(self.api_key_env)

    def post(self, path: str, body: Any, *, abort: threading.Event | None = None) -> Reply:
        """POST ``body`` as JSON to ``path``, retrying; raise :class:`RequestFailed` on failure.

        ``abort`` (set by the caller, e.g. on Ctrl-C) stops before the next attempt and ends a
        wait between attempts at once.
        """
        self.check_key()
        self._count("requests")
        attempts = 0
        while True:
            if abort is not None and abort.is_set():
                raise self._give_up(f"{self._where(path)}: cancelled", kind="cancelled", status=None,
                                    attempts=attempts)
            attempts += 1
            if attempts > 1:
                self._count("retries")
            try:
                reply = self._attempt(path, body)
            except RequestFailed as exc:
                self._count("failed")
                exc.attempts = attempts
                raise
            except _Retryable as exc:
                last = self._redact(str(exc))
                plural = "s" if attempts != 1 else ""
                if attempts >= self.options.max_attempts:
                    raise self._give_up(f"{last} (gave up after {attempts} attempt{plural})", kind=exc.kind,
                                        status=exc.status, attempts=attempts) from None
                wait = self._backoff(exc, attempts)
                left = self.deadline.left()
                if left is not None and wait >= left:
                    raise self._give_up(f"{last} (stopped after {attempts} attempt{plural}: the run's deadline "
                                        f"of {self.deadline.seconds:g} s comes before the next)",
                                        kind="deadline", status=exc.status, attempts=attempts) from None
                if abort is None:
                    time.sleep(wait)
                elif abort.wait(wait):
                    raise self._give_up(f"{last} (cancelled after {attempts} attempt{plural})", kind="cancelled",
                                        status=exc.status, attempts=attempts) from None
                continue
            return Reply(body=reply.body, status=reply.status, attempts=attempts, headers=reply.headers)

    def _post_or_failure(self, path: str, body: Any, abort: threading.Event | None) -> Reply | RequestFailed:
        try:
            return self.post(path, body, abort=abort)
        except RequestFailed as exc:
            return exc

    def post_many(self, path: str, bodies: Sequence[Any]) -> list[Reply | RequestFailed]:
        """POST each body (up to ``concurrency`` at once); each slot is a Reply or a RequestFailed.

        Ctrl-C (KeyboardInterrupt) returns at once, abandoning the requests in flight; past the
        deadline (plus a short grace for answers already arriving) the slots not done fail with
        kind ``deadline``.
        """
        self.check_key()
        bodies = list(bodies)
        n = len(bodies)
        if n <= 1 or self.options.concurrency == 1:
            return [self._post_or_failure(path, b, None) for b in bodies]
        abort = threading.Event()
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(n):
            todo.put(i)
        finished: queue.SimpleQueue[tuple[int, Reply | RequestFailed | _Crash]] = queue.SimpleQueue()

        def worker() -> None:
            while not abort.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    out: Reply | RequestFailed | _Crash = self._post_or_failure(path, bodies[i], abort)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller, re-raised there
                    out = _Crash(exc)
                finished.put((i, out))

        for _ in range(min(self.options.concurrency, n)):
            threading.Thread(target=worker, name="policybench-http", daemon=True).start()
        results: list[Reply | RequestFailed | None] = [None] * n
        pending = n
        try:
            while pending:
                try:
                    i, out = finished.get(timeout=_POLL)
                except queue.Empty:
                    left = self.deadline.left()
                    if left is not None and left < -_DEADLINE_GRACE:
                        break
                    continue
                if isinstance(out, _Crash):
                    raise out.exc
                results[i] = out
                pending -= 1
        except BaseException:
            abort.set()
            self._abandon()
            raise
        if pending:  # the deadline passed and some requests are still in flight: abandon them
            abort.set()
            self._abandon()
            for i, r in enumerate(results):
                if r is None:
                    results[i] = self._give_up(f"{self._where(path)}: unfinished: {self._deadline_text()}",
                                               kind="deadline", status=None, attempts=1)
        return [r for r in results if r is not None]


_KEPT_HEADERS = {"openai-model", "openai-version", "x-model", "server"}
