"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests, with scripted behaviour.

    with FakeOpenAI() as fake:
        fake.queue("normal", text="我想问问账单")
        fake.queue("http_500")
        client = LLMClient(fake.base_url, "k", "fake-model", timeout=1)
        ...
        fake.requests  # parsed JSON bodies, in order
        fake.reset()   # empty queue and requests (a server shared by several tests)

Behaviours (one per request, queued; `default` when the queue is empty):
normal (text), slow (sleeps `delay` s, then normal), http_500, malformed (200 with a
broken JSON body / broken SSE data), cut (stream: half the text, then the connection
closes without finish_reason; non-stream: truncated body), truncated (the text, with
finish_reason "length", as when max_tokens cuts a reply short). Role flips, leaks, wrong
language and over-long replies are just `normal` with such a text.
Streaming requests (`"stream": true`) are answered as SSE chunks of `chunk_size` chars.
More faults: http_503 and http_429 (error statuses), null_content (200, message content
null), stall (stream: half the text, then silence for `delay` s; non-stream: like slow).

Chaos mode, for fault-injection runs: `fake.chaos(seed, weights, delay=...)` makes every
request whose queue is empty draw its behaviour from `CHAOS` with a seeded generator
(so a run is reproducible when requests arrive in the same order); `fake.served` maps
each request's `seed` parameter to the chaos behaviour that answered it.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEHAVIOURS = ("normal", "slow", "http_500", "http_503", "http_429", "malformed", "cut", "null_content", "stall", "truncated")

GOOD_REPLY = "嗯，我明白了，那你接着说吧。"
# Chaos behaviours: name -> (behaviour kind, text or None for the default reply text).
CHAOS = {
    "good": ("normal", GOOD_REPLY),
    "slow": ("slow", None),  # answers after the client's timeout
    "stall": ("stall", None),  # streams half, then stops answering
    "http_500": ("http_500", None),
    "http_503": ("http_503", None),
    "http_429": ("http_429", None),
    "malformed": ("malformed", None),
    "cut": ("cut", GOOD_REPLY * 2),  # the connection closes half-way
    "null_content": ("null_content", None),
    "empty": ("normal", ""),
    "whitespace": ("normal", " \n\t "),
    "garbage": ("normal", "�@#¥%……&*（）——+{}|：“《》？~!@#$%^&*()_+"),
    "wrong_language": ("normal", "Sure, I can help you with that. What seems to be the problem with your bill?"),
    "too_long": ("normal", "我真的非常非常生气，" * 40),
    "role_flip": ("normal", "您好，这里是客服中心，工号1024，请问有什么可以帮您？"),
    "agent_label": ("normal", "客服：请您提供一下机主姓名和身份证后四位，我帮您核实身份。"),
}


@dataclass
class Behaviour:
    kind: str = "normal"
    text: str = "好的。"
    delay: float = 0.0
    chunk_size: int = 4


class FakeOpenAI:
    def __init__(self, default_text: str = "好的。", model: str = "fake-model", default_delay: float = 0.0):
        # A default delay makes every unqueued request "slow": a provider's latency (benchmarks).
        self.default = Behaviour(kind="slow" if default_delay else "normal", text=default_text, delay=default_delay)
        self.model = model
        self.requests: list[dict] = []
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._chaos: tuple[random.Random, list[str], list[float], float] | None = None
        self.served: dict[int | None, str] = {}

    # -- control ------------------------------------------------------------------
    def queue(self, kind: str, text: str | None = None, delay: float = 3.0, chunk_size: int = 4) -> "FakeOpenAI":
        if kind not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {kind!r}; known: {', '.join(BEHAVIOURS)}")
        with self._lock:
            self._queue.append(Behaviour(kind, text if text is not None else self.default.text, delay, chunk_size))
        return self

    def chaos(self, seed: int, weights: dict[str, float], delay: float) -> "FakeOpenAI":
        """Answer every unqueued request with a behaviour drawn from `weights` (names of
        CHAOS); slow and stall behaviours wait `delay` s (make it exceed the client timeout)."""
        unknown = set(weights) - set(CHAOS)
        if unknown:
            raise ValueError(f"unknown chaos behaviours {sorted(unknown)}; known: {', '.join(CHAOS)}")
        names = sorted(weights)
        with self._lock:
            self._chaos = (random.Random(seed), names, [weights[n] for n in names], delay)
            self.served.clear()
        return self

    def reset(self) -> "FakeOpenAI":
        """Forget queued behaviours and recorded requests, so one server can serve many
        tests (starting and stopping one costs ~0.5 s: the server's shutdown poll)."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
        return self

    def _next(self, body: dict) -> Behaviour:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self._chaos is None:
                return self.default
            rng, names, weights, delay = self._chaos
            name = rng.choices(names, weights)[0]
            self.served[body.get("seed")] = name
            kind, text = CHAOS[name]
            return Behaviour(kind, self.default.text if text is None else text, delay)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, b'{"error": {"message": "not found"}}')
                try:
                    fake._serve(self, body, fake._next(body))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test): nothing to answer

            def _send(self, status: int, payload: bytes, ctype: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a class of trainees connects at once (benchmarks)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- responses ------------------------------------------------------------------
    def _completion(self, text: str, body: dict, finish: str = "stop") -> dict:
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
                "usage": {"prompt_tokens": _tokens(body), "completion_tokens": len(text), "total_tokens": _tokens(body) + len(text)}}

    def _chunk(self, delta: dict, finish: str | None = None) -> bytes:
        data = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"

    def _serve(self, h: BaseHTTPRequestHandler, body: dict, b: Behaviour) -> None:
        if b.kind == "slow":
            self._stop.wait(b.delay)  # returns early when the server shuts down
        if b.kind in ("http_500", "http_503", "http_429"):
            status = int(b.kind[-3:])
            return h._send(status, b'{"error": {"message": "server says no", "type": "server_error"}}')
        stream = bool(body.get("stream"))
        if not stream:
            if b.kind == "stall":
                self._stop.wait(b.delay)
            if b.kind == "malformed":
                return h._send(200, b'{"id": "x", "choices": [{"message": ')
            if b.kind == "null_content":
                completion = self._completion("", body)
                completion["choices"][0]["message"]["content"] = None
                return h._send(200, json.dumps(completion).encode())
            finish = "length" if b.kind == "truncated" else "stop"
            payload = json.dumps(self._completion(b.text, body, finish), ensure_ascii=False).encode()
            if b.kind == "cut":
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(payload)))
                h.end_headers()
                h.wfile.write(payload[: len(payload) // 2])
                h.close_connection = True
                return
            return h._send(200, payload)
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        if b.kind == "malformed":
            h.wfile.write(b"data: {not json\n\n")
            h.wfile.flush()
            return
        pieces = [b.text[i:i + b.chunk_size] for i in range(0, len(b.text), b.chunk_size)] or [""]
        if b.kind in ("cut", "stall"):
            pieces = pieces[: max(1, len(pieces) // 2)]
        h.wfile.write(self._chunk({"role": "assistant", "content": ""}))
        if b.kind == "null_content":
            pieces = []
        for piece in pieces:
            h.wfile.write(self._chunk({"content": piece}))
            h.wfile.flush()
        if b.kind == "stall":
            self._stop.wait(b.delay)  # the client's read timeout fires first
            return
        if b.kind == "cut":
            return  # connection closes with no finish_reason and no [DONE]
        h.wfile.write(self._chunk({}, "length" if b.kind == "truncated" else "stop"))
        usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": self.model, "choices": [],
                 "usage": {"prompt_tokens": _tokens(body), "completion_tokens": len(b.text), "total_tokens": _tokens(body) + len(b.text)}}
        h.wfile.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()


def _tokens(body: dict) -> int:
    return sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
