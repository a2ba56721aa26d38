"""The one wrapper every LLM call goes through (simulated customer, scorer's judge).

`LLMClient.chat` and `LLMClient.stream` never raise for network, HTTP, timeout or
malformed-response problems: the result carries `error` and `error_kind`
(`timeout | http_error | malformed | empty`) so callers can fall back and record why.
Every call is logged with its call name, model, temperature, seed, latency and tokens.
The client is injected where needed, never imported as a global.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Iterator

log = logging.getLogger("app.llm")


@dataclass
class LLMResult:
    text: str
    model: str
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    error_kind: str | None = None  # timeout | http_error | malformed | empty
    temperature: float | None = None
    seed: int | None = None
    call_name: str = ""
    finish_reason: str | None = None  # "stop", or "length" when max_tokens cut the reply short

    @property
    def ok(self) -> bool:
        return self.error is None

    def meta(self) -> dict:
        """JSON-ready record of the call for a turn's meta (no prompt text)."""
        d = asdict(self)
        d.pop("text")
        return d


def _classify(exc: BaseException) -> str:
    import httpx
    import openai

    # While a stream is read, the openai client lets httpx's own errors through unwrapped:
    # a server that stops sending mid-stream is a ReadTimeout, not a malformed answer.
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return "timeout"
    if isinstance(exc, (openai.APIStatusError, openai.APIConnectionError, httpx.TransportError)):
        return "http_error"
    return "malformed"  # unparsable body, missing fields, decode errors


class LLMClient:
    """OpenAI-compatible chat client with call logging and no exceptions on failure."""

    def __init__(self, base_url: str, api_key: str | None, model: str, timeout: float = 20.0,
                 max_retries: int = 0):
        from openai import OpenAI

        self.model = model
        self.timeout = timeout
        # Local servers need no key, but the openai client insists on one.
        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                              timeout=timeout, max_retries=max_retries)

    def _params(self, messages, temperature, seed, max_tokens, json_mode, stream, stop=None) -> dict:
        params = {"model": self.model, "messages": messages, "temperature": temperature}
        if stop:
            params["stop"] = list(stop)
        if seed is not None:
            params["seed"] = seed
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if json_mode:
            params["response_format"] = {"type": "json_object"}
        if stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
        return params

    def chat(self, call_name: str, messages: list[dict], *, temperature: float, seed: int | None = None,
             max_tokens: int | None = None, json_mode: bool = False, stop: list[str] | None = None) -> LLMResult:
        """One completion. On any failure returns an LLMResult with `error` set and text ''."""
        start = time.monotonic()
        base = dict(model=self.model, temperature=temperature, seed=seed, call_name=call_name)
        try:
            resp = self._client.chat.completions.create(
                **self._params(messages, temperature, seed, max_tokens, json_mode, stream=False, stop=stop))
            text = resp.choices[0].message.content
            if not isinstance(text, str):
                raise ValueError("response has no message content")
            usage = getattr(resp, "usage", None)
            result = LLMResult(text=text, latency_ms=_ms(start), **{**base, "model": resp.model or self.model},
                               prompt_tokens=getattr(usage, "prompt_tokens", None),
                               completion_tokens=getattr(usage, "completion_tokens", None),
                               finish_reason=resp.choices[0].finish_reason)
            _check_content(result, json_mode)
        except Exception as exc:  # noqa: BLE001 - the contract is: never raise
            result = LLMResult(text="", latency_ms=_ms(start), error=f"{type(exc).__name__}: {exc}"[:300],
                               error_kind=_classify(exc), **base)
        _log(result)
        return result

    def stream(self, call_name: str, messages: list[dict], *, temperature: float, seed: int | None = None,
               max_tokens: int | None = None, json_mode: bool = False,
               stop: list[str] | None = None) -> Iterator[str | LLMResult]:
        """Yield text chunks as they arrive, then exactly one LLMResult with the full text.

        A stream that breaks off (no finish_reason) ends with error_kind 'malformed';
        chunks already yielded stay yielded, so the caller must honour the final result.
        """
        start = time.monotonic()
        base = dict(model=self.model, temperature=temperature, seed=seed, call_name=call_name)
        parts: list[str] = []
        usage, finished, model = None, None, self.model
        try:
            stream = self._client.chat.completions.create(
                **self._params(messages, temperature, seed, max_tokens, json_mode, stream=True, stop=stop))
            for chunk in stream:
                model = getattr(chunk, "model", None) or model
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    piece = getattr(choice.delta, "content", None)
                    if piece:
                        parts.append(piece)
                        yield piece
                    if choice.finish_reason:
                        finished = choice.finish_reason
            if not finished:
                raise ValueError("stream ended without finish_reason")
            result = LLMResult(text="".join(parts), latency_ms=_ms(start), **{**base, "model": model},
                               prompt_tokens=getattr(usage, "prompt_tokens", None),
                               completion_tokens=getattr(usage, "completion_tokens", None),
                               finish_reason=finished)
            _check_content(result, json_mode)
        except Exception as exc:  # noqa: BLE001 - the contract is: never raise
            result = LLMResult(text="".join(parts), latency_ms=_ms(start), error=f"{type(exc).__name__}: {exc}"[:300],
                               error_kind=_classify(exc), **base)
        _log(result)
        yield result


def _check_content(result: LLMResult, json_mode: bool) -> None:
    if not result.text.strip():
        result.error, result.error_kind = "empty completion", "empty"
    elif json_mode:
        try:
            json.loads(result.text)
        except ValueError as exc:
            result.error, result.error_kind = f"not JSON: {exc}", "malformed"


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _log(r: LLMResult) -> None:
    log.info("llm call=%s model=%s temperature=%s seed=%s latency_ms=%s tokens=%s/%s error=%s",
             r.call_name, r.model, r.temperature, r.seed, r.latency_ms, r.prompt_tokens,
             r.completion_tokens, r.error_kind)
