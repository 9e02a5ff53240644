"""A fake OpenAI-compatible server on 127.0.0.1 for contract tests of the hosted adapters.

It speaks ``POST /v1/moderations`` and ``POST /v1/chat/completions`` (the parts the adapters
use) and can be programmed to misbehave: a :class:`Fault` matches requests whose JSON body
contains a marker string and answers with a status (429 with ``Retry-After``, 500, ...), a
body that is not JSON or has the wrong schema, a delay longer than the client's timeout, or
an echo of the request's ``Authorization`` header (to check keys are redacted).

Echo mode (``echo_key = True``, to check keys are redacted everywhere): every response carries
the request's bearer token in the headers ``openai-model``, ``openai-version``, ``x-model`` and
``x-request-id``, and every ``{KEY}`` in a response body (a ``reported_model``, a
``system_fingerprint``, a chat answer, a fault's body) is replaced by the token.

Usage::

    with FakeOpenAIServer() as srv:
        srv.faults.append(Fault("boom", status=500))          # every request containing "boom"
        srv.faults.append(Fault("flaky", status=429, times=1, retry_after="0"))
        srv.chat_answers.append(("weapons", "unsafe\\nS2"))   # guard answer for texts with "weapons"
        ... srv.base_url ...
        srv.hits("flaky")                                     # requests the fault matched

Moderation scores: category ``c`` scores 0.9 for an input containing ``<c>`` (e.g.
``<hate/threatening>``), else 0.01. Chat answers: the first ``(marker, answer)`` in
``chat_answers`` whose marker is in the last message, else ``default_chat_answer(body)``
("safe", or an all-false JSON verdict when the request asks for ``response_format``).
A guard that follows the policy text it is given: ``policy_guard`` maps a marker to a phrase;
for a last message containing the marker (and no ``chat_answers`` marker), the answer is
``unsafe`` with every ``S<i>`` whose category line (between ``<BEGIN UNSAFE CONTENT
CATEGORIES>`` and ``<END UNSAFE CONTENT CATEGORIES>``) mentions the phrase (case-insensitive),
``safe`` when none does.
With ``logprobs`` in the request (and ``send_logprobs``), the first token's top alternatives
are ``unsafe``/``safe`` with ``p_unsafe`` from ``p_unsafe_for`` (marker → probability; default
0.9 for an ``unsafe`` answer, 0.2 for a ``safe`` one).
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The API's categories, written out here independently of the adapter (this is the spec).
TEXT_MODERATION = [
    "sexual", "hate", "harassment", "self-harm", "sexual/minors", "hate/threatening",
    "violence/graphic", "self-harm/intent", "self-harm/instructions", "harassment/threatening", "violence",
]
OMNI_MODERATION = TEXT_MODERATION + ["illicit", "illicit/violent"]


@dataclass
class Fault:
    """Misbehave on requests whose JSON body contains ``match``.

    kind (by the fields set): ``status`` → that HTTP status with ``body`` (default a JSON
    error); ``body`` alone → HTTP 200 with that raw body; ``sleep`` → wait that many seconds
    before answering normally; ``echo_auth`` → HTTP 401 whose body repeats the Authorization
    header. ``times``: only the first N matching requests (None: all).
    """

    match: str
    status: int | None = None
    body: str | None = None
    sleep: float | None = None
    retry_after: str | None = None
    echo_auth: bool = False
    times: int | None = None
    hits: int = 0


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: Any
    at: float


class FakeOpenAIServer:
    """A threaded HTTP server on an ephemeral port of 127.0.0.1; use as a context manager."""

    def __init__(self, *, reported_model: str | None = None, system_fingerprint: str = "fp_fake_1"):
        self.faults: list[Fault] = []
        self.chat_answers: list[tuple[str, str]] = []
        self.p_unsafe_for: dict[str, float] = {}
        self.policy_guard: dict[str, str] = {}
        self.reject_params: set[str] = set()
        self.send_logprobs = True
        self.echo_key = False
        self.reported_model = reported_model
        self.system_fingerprint = system_fingerprint
        self.requests: list[Seen] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def hits(self, match: str) -> int:
        """How many requests the faults with this marker matched."""
        return sum(f.hits for f in self.faults if f.match == match)

    def count(self, marker: str) -> int:
        """How many received requests contain ``marker`` in their body."""
        with self._lock:
            return sum(marker in json.dumps(r.body) for r in self.requests)

    # -- behaviour ---------------------------------------------------------------------------
    def _fault_for(self, raw: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.match in raw and (f.times is None or f.hits < f.times):
                    f.hits += 1
                    return f
        return None

    def default_chat_answer(self, body: dict[str, Any]) -> str:
        if "response_format" in body or any("JSON" in str(m.get("content", "")) for m in body["messages"]):
            keys = re.findall(r"^- ([a-z_]+):", body["messages"][0]["content"], re.MULTILINE)
            return json.dumps({k: {"violation": False, "confidence": 0.8} for k in keys})
        return "safe"

    @staticmethod
    def guard_by_policy(prompt: str, phrase: str) -> str:
        """The answer of a guard that reads the prompt's categories: ``unsafe`` with every
        ``S<i>`` whose line mentions ``phrase``, else ``safe``."""
        block = prompt.partition("<BEGIN UNSAFE CONTENT CATEGORIES>")[2].partition("<END UNSAFE CONTENT CATEGORIES>")[0]
        hits = [m.group(1) for m in re.finditer(r"^(S\d+):(.*)$", block, re.MULTILINE)
                if phrase.lower() in m.group(2).lower()]
        return "unsafe\n" + ",".join(hits) if hits else "safe"

    def moderation(self, body: dict[str, Any]) -> dict[str, Any]:
        model = body.get("model", "omni-moderation-latest")
        cats = OMNI_MODERATION if model.startswith("omni") else TEXT_MODERATION
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = []
        for text in inputs:
            scores = {c: (0.9 if f"<{c}>" in text else 0.01) for c in cats}
            results.append({"flagged": any(v > 0.5 for v in scores.values()),
                            "categories": {c: v > 0.5 for c, v in scores.items()},
                            "category_scores": scores})
        return {"id": "modr-fake", "model": self.reported_model or f"{model}-fake-build", "results": results}

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        last = str(body["messages"][-1].get("content", ""))
        answer = next((a for marker, a in self.chat_answers if marker in last), None)
        if answer is None:
            answer = next((self.guard_by_policy(last, phrase) for marker, phrase in self.policy_guard.items()
                           if marker in last), None)
        if answer is None:
            answer = self.default_chat_answer(body)
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": answer},
                                  "finish_reason": "stop"}
        if body.get("logprobs") and self.send_logprobs:
            p = next((v for marker, v in self.p_unsafe_for.items() if marker in last), None)
            if p is None:
                p = 0.9 if answer.strip().startswith("unsafe") else 0.2
            first = "unsafe" if answer.strip().startswith("unsafe") else answer.strip().split("\n")[0][:8]
            alts = [{"token": "unsafe", "logprob": math.log(p)}, {"token": "safe", "logprob": math.log(1 - p)}]
            choice["logprobs"] = {"content": [
                {"token": "\n\n", "logprob": 0.0, "top_logprobs": [{"token": "\n\n", "logprob": 0.0}]},
                {"token": first, "logprob": math.log(p if first == "unsafe" else 1 - p), "top_logprobs": alts},
            ]}
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": self.reported_model or body.get("model"), "system_fingerprint": self.system_fingerprint,
                "choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, payload: str | bytes, *, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        if self.fake.echo_key:  # put the caller's key in every header and body field we can
            key = str(self.headers.get("Authorization") or "").removeprefix("Bearer ")
            payload = (payload.decode() if isinstance(payload, bytes) else payload).replace("{KEY}", key)
            headers = {**(headers or {}), **{h: key for h in ("openai-model", "openai-version", "x-model",
                                                              "x-request-id")}}
        data = payload.encode() if isinstance(payload, str) else payload
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        fake = self.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, json.dumps({"error": {"message": "body is not JSON"}}))
            return
        with fake._lock:
            fake.requests.append(Seen(self.path, dict(self.headers), body, time.monotonic()))
            fake._in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
        try:
            self._answer(fake, raw, body)
        finally:
            with fake._lock:
                fake._in_flight -= 1

    def _answer(self, fake: FakeOpenAIServer, raw: str, body: dict[str, Any]) -> None:
        fault = fake._fault_for(raw)
        if fault is not None:
            if fault.sleep is not None:
                fake._stop.wait(fault.sleep)
            elif fault.echo_auth:
                self._send(401, json.dumps({"error": {"message": "Incorrect API key provided: "
                                                                f"{self.headers.get('Authorization')}"}}))
                return
            elif fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                self._send(fault.status, fault.body or json.dumps({"error": {"message": f"fake {fault.status}"}}),
                           headers=headers)
                return
            elif fault.body is not None:
                self._send(200, fault.body)
                return
        for name in fake.reject_params:
            if name in body:
                self._send(400, json.dumps({"error": {"message": f"Unrecognized request argument supplied: {name}"}}))
                return
        if self.path == "/v1/moderations":
            self._send(200, json.dumps(fake.moderation(body)))
        elif self.path == "/v1/chat/completions":
            self._send(200, json.dumps(fake.chat(body)))
        else:
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))


def marker_in(seen: Seen, marker: str) -> bool:
    """Whether a recorded request's body contains ``marker``."""
    return marker in json.dumps(seen.body)


__all__ = ["FakeOpenAIServer", "Fault", "Seen", "TEXT_MODERATION", "OMNI_MODERATION", "marker_in"]
