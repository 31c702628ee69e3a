"""Calling a model: one streamed chat through the official `openai` SDK (any OpenAI-compatible
endpoint) or the `anthropic` SDK, each piece of text handed to `on_text` as it arrives, and
the SDKs' errors turned into node errors that say whether trying again can help.

The SDKs' own retries are off (`max_retries=0`): the node's `retry` decides, with the
provider's `Retry-After` as the least delay. The client is closed when the call ends, is
cancelled or fails, so a cancelled run also closes its HTTP request. Each connection goes to
the address checked for it (`PinnedTransport`), as an `http` node's does.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2

from engine.handlers.base import NodeError
from engine.handlers.http_request import PinnedTransport, PinningTransport

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
ANTHROPIC_DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; this when none is set


@dataclass
class Call:
    """One chat: what to send (already rendered and checked)."""

    provider: str
    base_url: str
    api_key: str
    model: str
    system: str | None
    messages: list[dict[str, Any]]
    temperature: float | None
    max_tokens: int | None
    timeout_s: float
    response_schema: dict | None
    tools: list[dict] | None = None  # OpenAI function tools (agent mode)
    allow_private: bool = False  # the engine's http_allow_private: what the connection allows


def sdks() -> tuple[Any, Any]:
    """The `anthropic` and `openai` modules, imported on the first call: together they weigh
    about 65 MB, which every process that imports the engine (web, workers, the CLI) would
    carry without ever calling a model."""
    import anthropic
    import openai

    return anthropic, openai


def _client_args(call: Call) -> dict[str, Any]:
    """The SDK client's settings: no SDK retries, the node's timeout, a pinned connection."""
    return {
        "api_key": call.api_key,
        "base_url": call.base_url,
        "max_retries": 0,
        "timeout": call.timeout_s,
        "http_client": pinned_client(call),
    }


class _PinnedTransport2(PinningTransport, httpx2.AsyncHTTPTransport):
    """The anthropic SDK's httpx2 transport, connecting only to checked addresses."""


def pinned_client(call: Call) -> Any:
    """The SDK's HTTP client (httpx for openai, httpx2 for anthropic): each connection goes to
    the address checked for it (`pin`), never to whatever the base URL's name resolves to
    later."""
    if call.provider == "anthropic":
        transport = _PinnedTransport2(call.allow_private)
        return httpx2.AsyncClient(transport=transport, timeout=call.timeout_s)
    return httpx.AsyncClient(transport=PinnedTransport(call.allow_private), timeout=call.timeout_s)


@dataclass
class Answer:
    text: str
    model: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    tool_calls: list[dict] = field(default_factory=list)  # {"id", "name", "arguments"}


async def complete(call: Call, on_text: Callable[[str], None]) -> Answer:
    """The model's answer, streamed through `on_text`; provider failures as `NodeError`s."""
    anthropic, openai = sdks()
    try:
        if call.provider == "anthropic":
            return await _anthropic(call, on_text)
        return await _openai(call, on_text)
    except (openai.APIError, anthropic.APIError) as exc:
        raise provider_error(exc, call) from None
    except (ValueError, KeyError, TypeError) as exc:  # a body the SDK could not read
        raise NodeError(
            f"{call.provider} model {call.model!r} at {call.base_url} answered something that "
            "is not a chat answer: "
            f"{type(exc).__name__}",
            "provider_error",
        ) from None


async def _openai(call: Call, on_text: Callable[[str], None]) -> Answer:
    messages = list(call.messages)
    if call.system:
        messages.insert(0, {"role": "system", "content": call.system})
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if call.temperature is not None:
        kwargs["temperature"] = call.temperature
    if call.max_tokens is not None:
        kwargs["max_tokens"] = call.max_tokens
    if call.tools:
        kwargs["tools"] = call.tools
    if call.response_schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": call.response_schema},
        }
    parts: list[str] = []
    calls: dict[int, dict] = {}
    answer = Answer("", call.model, None, None, None)
    client = sdks()[1].AsyncOpenAI(**_client_args(call))
    async with client:
        stream = await client.chat.completions.create(**kwargs)
        async with stream:
            async for chunk in stream:
                answer.model = chunk.model or answer.model
                if chunk.usage is not None:
                    answer.prompt_tokens = chunk.usage.prompt_tokens
                    answer.completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    _take_delta(choice, parts, calls, on_text)
                    if choice.finish_reason:
                        answer.finish_reason = choice.finish_reason
    answer.tool_calls = [calls[i] for i in sorted(calls)]
    if answer.finish_reason is None:  # no chunk said it finished: cut off or not a chat
        raise NodeError(
            f"{call.provider} model {call.model!r} at {call.base_url} ended its answer before "
            "it finished "
            f"(after {len(parts)} pieces of text): not a complete chat answer",
            "provider_error",
        )
    answer.text = "".join(parts)
    return answer


def _take_delta(choice: Any, parts: list[str], calls: dict[int, dict], on_text: Callable) -> None:
    """One streamed choice delta: its text (streamed on) and its pieces of tool calls."""
    delta = choice.delta
    if delta is None:
        return
    if delta.content:
        parts.append(delta.content)
        on_text(delta.content)
    for piece in delta.tool_calls or ():
        slot = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
        slot["id"] = piece.id or slot["id"]
        if piece.function is not None:
            slot["name"] += piece.function.name or ""
            slot["arguments"] += piece.function.arguments or ""


async def _anthropic(call: Call, on_text: Callable[[str], None]) -> Answer:
    # Anthropic takes the system prompt apart from the conversation
    system = [call.system] if call.system else []
    system += [m["content"] for m in call.messages if m.get("role") == "system"]
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": [m for m in call.messages if m.get("role") != "system"],
        "max_tokens": call.max_tokens or ANTHROPIC_DEFAULT_MAX_TOKENS,
    }
    if system:
        kwargs["system"] = "\n\n".join(system)
    if call.tools:
        kwargs["tools"] = [
            {
                "name": tool["function"]["name"],
                "description": tool["function"]["description"],
                "input_schema": tool["function"]["parameters"],
            }
            for tool in call.tools
        ]
    if call.temperature is not None:
        kwargs["temperature"] = min(call.temperature, 1.0)  # Anthropic's range is 0..1
    parts: list[str] = []
    client = sdks()[0].AsyncAnthropic(**_client_args(call))
    async with client, client.messages.stream(**kwargs) as stream:
        async for text in stream.text_stream:
            parts.append(text)
            on_text(text)
        message = await stream.get_final_message()
    usage = message.usage
    calls = [
        {"id": b.id, "name": b.name, "arguments": json.dumps(b.input), "input": b.input}
        for b in message.content
        if b.type == "tool_use"
    ]
    return Answer(
        "".join(parts),
        message.model or call.model,
        message.stop_reason,
        usage.input_tokens if usage else None,
        usage.output_tokens if usage else None,
        calls,
    )


def assistant_turn(call: Call, answer: Answer) -> dict[str, Any]:
    """The model's turn as the conversation keeps it for the next call: its text and its
    tool calls, in the provider's shape."""
    if call.provider == "anthropic":
        blocks: list[dict] = [{"type": "text", "text": answer.text}] if answer.text else []
        blocks += [
            {"type": "tool_use", "id": c["id"], "name": c["name"], "input": c.get("input", {})}
            for c in answer.tool_calls
        ]
        return {"role": "assistant", "content": blocks}
    return {
        "role": "assistant",
        "content": answer.text or None,
        "tool_calls": [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"] or "{}"},
            }
            for c in answer.tool_calls
        ],
    }


def tool_results(call: Call, results: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The messages that answer a turn's tool calls ((call id, content) each): one `tool`
    message per call (OpenAI), or one user message of `tool_result` blocks (Anthropic)."""
    if call.provider == "anthropic":
        blocks = [
            {"type": "tool_result", "tool_use_id": call_id, "content": content}
            for call_id, content in results
        ]
        return [{"role": "user", "content": blocks}]
    return [
        {"role": "tool", "tool_call_id": call_id, "content": content}
        for call_id, content in results
    ]


def provider_error(exc: Exception, call: Call) -> NodeError:
    """The node error of an SDK failure: rate limits, server errors, timeouts and lost
    connections may pass (retryable); a refusal (bad key, unknown model, bad request) will not.
    The API key never appears in the message."""
    anthropic, openai = sdks()
    where = f"{call.provider} model {call.model!r} at {call.base_url}"
    refused = _pin_refusal(exc)
    if refused is not None:  # checked again when connecting: a blocked address, a lost name
        retryable = refused.type == "dns"
        return NodeError(f"config.base_url: {refused.message}", refused.type, retryable)
    if isinstance(exc, openai.APITimeoutError | anthropic.APITimeoutError):
        return NodeError(f"{where} timed out after {call.timeout_s:g} s", "timeout")
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return NodeError(f"{where}: cannot connect ({_clean(exc, call)})", "provider_error")
    status = getattr(exc, "status_code", None)
    detail = _clean(exc, call)
    if status == 429:
        after = retry_after(getattr(exc, "response", None))
        wait = f"; retry after {after:g} s" if after is not None else ""
        return NodeError(
            f"{where} is rate limited (429){wait}: {detail}",
            "rate_limited",
            retryable=True,
            retry_after_s=after,
        )
    if status is not None and (status >= 500 or status in (408, 409)):
        return NodeError(f"{where} failed ({status}): {detail}", "provider_error")
    if status is not None:
        return NodeError(
            f"{where} refused the request ({status}): {detail}", "provider_rejected", False
        )
    return NodeError(f"{where} failed: {detail}", "provider_error")


def _pin_refusal(exc: BaseException) -> NodeError | None:
    """The `pin` error an SDK wrapped in its connection error, if that is what failed."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, NodeError):
            return current
        current, seen = current.__cause__ or current.__context__, seen + 1
    return None


def retry_after(response: Any) -> float | None:
    """Seconds from a `Retry-After` header (a number or an HTTP date), else None."""
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _clean(exc: Exception, call: Call) -> str:
    """The provider's own message, short, without the key."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        message = str(inner.get("message") or message)
    elif body is not None and not isinstance(body, str):
        message = json.dumps(body, default=str)
    if call.api_key and len(call.api_key) >= 4:
        message = message.replace(call.api_key, "***")
    return message[:500]
