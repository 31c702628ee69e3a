"""The `llm` node (SPEC §8): a chat with a model, streamed to the canvas as `node.stream`
events, its tokens counted against the run's budget, its answer optionally parsed as JSON and
checked against a JSON Schema.

The API key is named (`api_key_secret`), never written in the document: the handler reads it
from the run's secrets, and it reaches no output, event or log. The base URL is checked like
an `http` node's destination (`pin`): a private or loopback address (a local Ollama, say) is
refused unless the engine setting `http_allow_private` is on.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import httpx
from jsonschema import Draft202012Validator, SchemaError

from engine.handlers.base import Handler, HandlerContext, HandlerResult, NodeError, Wait
from engine.handlers.http_request import pin
from engine.handlers.llm_agent import converse
from engine.handlers.llm_providers import DEFAULT_BASE_URLS, Answer, Call, complete
from engine.limits import MAX_HTTP_TIMEOUT_S, MAX_WORKFLOW_ID
from engine.tokens import count_prompt, count_tokens, tokens_of

PROVIDERS = ("openai", "anthropic")
ROLES = ("system", "user", "assistant")
MAX_PROMPT_CHARS = 200_000
MAX_MESSAGES = 200
MAX_ANSWER_TOKENS = 200_000
SECRET_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
JSON_INSTRUCTION = (
    "Answer with one JSON value only (no prose, no code fence) that matches this JSON Schema:\n"
)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "provider": {"enum": list(PROVIDERS), "default": "openai"},
        "base_url": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2048,
            "description": "An OpenAI-compatible endpoint (Ollama, vLLM, LiteLLM …); default: "
            "the provider's own.",
        },
        "model": {"type": "string", "minLength": 1, "maxLength": 200},
        "api_key_secret": {
            "type": "string",
            "pattern": SECRET_NAME,
            "description": "The name of the secret holding the API key (never the key).",
        },
        "system": {"type": "string", "maxLength": MAX_PROMPT_CHARS},
        "prompt": {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT_CHARS},
        "messages": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_MESSAGES,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"enum": list(ROLES)},
                    "content": {"type": "string", "maxLength": MAX_PROMPT_CHARS},
                },
                "required": ["role", "content"],
                "additionalProperties": False,
            },
        },
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": MAX_ANSWER_TOKENS},
        "timeout_s": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_HTTP_TIMEOUT_S,
            "default": 120,
        },
        "tools": {
            "type": "array",
            "maxItems": 16,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": MAX_WORKFLOW_ID},
            "description": "Agent mode: saved workflows (ids) the model may run as tools; "
            "each call is a child run, its outputs go back to the model.",
        },
        "max_turns": {
            "type": "integer",
            "minimum": 1,
            "maximum": 50,
            "default": 8,
            "description": "Agent mode: at most this many model calls.",
        },
        "memory": {
            "type": "object",
            "properties": {
                "messages": {"type": "integer", "minimum": 1, "maximum": MAX_MESSAGES},
                "tokens": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
            },
            "additionalProperties": False,
            "minProperties": 1,
            "description": "Keep the conversation across loop iterations: the last N "
            "messages, or as many of the latest as fit in N tokens.",
        },
        "response_format": {
            "type": "object",
            "maxProperties": 64,
            "description": "A JSON Schema: the answer is parsed as JSON (output `json`) and "
            "must match it.",
        },
    },
    "required": ["model"],
    "additionalProperties": False,
    "anyOf": [{"required": ["prompt"]}, {"required": ["messages"]}],
}


def _messages(config: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation: `messages`, then `prompt` as the user's last word."""
    messages = [
        {"role": m["role"], "content": str(m["content"])} for m in config.get("messages") or ()
    ]
    prompt = config.get("prompt")
    if prompt is not None:
        messages.append({"role": "user", "content": str(prompt)})
    if not messages:
        raise NodeError("config needs a prompt or messages", "bad_config", False)
    return messages


def _api_key(ctx: HandlerContext) -> str:
    name = ctx.config.get("api_key_secret")
    if not name:
        return "not-needed"  # local servers (Ollama, llama.cpp) take any key
    scope = ctx.scope
    with_secrets = getattr(scope, "with_secrets", None)
    named = (with_secrets() if with_secrets else scope).get("secrets") or {}
    key = named.get(name)
    if not isinstance(key, str) or not key:
        raise NodeError(
            f"secret {name!r} (config.api_key_secret) is not set: add it under Secrets or in "
            "SWITCHYARD_SECRETS",
            "missing_secret",
            False,
        )
    return key


def _schema(config: dict[str, Any]) -> dict | None:
    schema = config.get("response_format")
    if schema is None:
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise NodeError(
            f"config.response_format is not a JSON Schema: {exc.message}", "bad_config", False
        ) from None
    return schema


async def _base_url(ctx: HandlerContext, provider: str) -> str:
    """The endpoint, checked like an http node's destination."""
    raw = ctx.config.get("base_url") or DEFAULT_BASE_URLS[provider]
    try:
        url = httpx.URL(str(raw).strip())
    except httpx.InvalidURL as exc:
        raise NodeError(f"config.base_url is not a valid URL: {exc}", "bad_url", False) from None
    allow_private = bool(ctx.settings.get("http_allow_private"))
    try:
        await pin(url, allow_private)
    except NodeError as exc:
        retryable = exc.type == "dns"
        raise NodeError(f"config.base_url: {exc.message}", exc.type, retryable) from None
    return str(url).rstrip("/")


def parse_json(text: str, schema: dict) -> Any:
    """The answer as JSON matching `schema`, else an `invalid_output` error (retryable: a
    model often gets it right the next time)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0].strip()
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise NodeError(
            f"the answer is not JSON ({exc.msg} at {exc.pos})", "invalid_output"
        ) from None
    error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the answer"
        raise NodeError(
            f"the answer does not match response_format: {where}: {error.message}", "invalid_output"
        )
    return value


def recalled(ctx: HandlerContext) -> list[dict]:
    """What the node's memory keeps of its earlier executions in this run (loop iterations)."""
    if not ctx.config.get("memory") or ctx.memory is None:
        return []
    return ctx.memory.recall()


async def remember(ctx: HandlerContext, exchange: list[dict]) -> None:
    """Keep this execution's messages and answer, trimmed to the last N messages or tokens
    (engine.memory: kept with the run, so a pause or a takeover keeps it too)."""
    limits = ctx.config.get("memory")
    if limits and ctx.memory is not None:
        await ctx.memory.keep(exchange, limits)


class Llm(Handler):
    type = "llm"
    label = "LLM"
    category = "AI"
    description = (
        "Asks a model (OpenAI-compatible or Anthropic); streams its answer and outputs the "
        "text, the parsed JSON when a response_format is given, and the tokens used."
    )
    icon = "sparkles"
    color = "#7c3aed"
    side_effects = True
    config_schema = CONFIG_SCHEMA

    async def run(self, ctx: HandlerContext) -> HandlerResult | Wait:
        config = ctx.config
        call = await self._call(ctx)
        said = list(call.messages)
        call.messages = [*recalled(ctx), *said]
        ask = partial(self._ask, ctx, config.get("max_tokens"))
        tools = config.get("tools")
        trace, turns = None, 1
        if tools:
            outcome = await converse(ctx, call, tools, int(config.get("max_turns") or 8), ask)
            if isinstance(outcome, Wait):
                return outcome  # a child run parked: the node waits for it
            answer, trace, usage, turns = outcome
        else:
            answer, usage = await ask(call)
        output: dict[str, Any] = {
            "text": answer.text,
            "model": answer.model,
            "finish_reason": answer.finish_reason,
            "usage": usage,
        }
        if trace is not None:
            output.update(turns=turns, tool_calls=trace)
        if call.response_schema is not None:
            output["json"] = parse_json(answer.text, call.response_schema)
        await remember(ctx, [*said, {"role": "assistant", "content": answer.text}])
        return HandlerResult(output)

    @staticmethod
    async def _call(ctx: HandlerContext) -> Call:
        """What to send, from the rendered config (the key read from the run's secrets)."""
        config = ctx.config
        provider = config.get("provider") or "openai"
        schema = _schema(config)
        system = config.get("system") or None
        if schema is not None:
            system = f"{system}\n\n" if system else ""
            system += JSON_INSTRUCTION + json.dumps(schema)
        return Call(
            provider=provider,
            base_url=await _base_url(ctx, provider),
            api_key=_api_key(ctx),
            model=str(config["model"]),
            system=system,
            messages=_messages(config),
            temperature=config.get("temperature"),
            max_tokens=config.get("max_tokens"),
            timeout_s=float(config.get("timeout_s") or 120),
            response_schema=schema,
            allow_private=bool(ctx.settings.get("http_allow_private")),
        )

    async def _ask(
        self, ctx: HandlerContext, max_tokens: int | None, call: Call
    ) -> tuple[Answer, dict[str, Any]]:
        """One model call within the run's token budget, its tokens counted."""
        meter = ctx.meter
        if meter is not None:
            prompt = 0
            if meter.run.limit is not None:  # a budget: the prompt's tokens count against it
                prompt = await tokens_of(count_prompt, call.system, call.messages)
            call.max_tokens = meter.check(prompt, max_tokens)
        answer = await complete(call, ctx.stream)
        return answer, await self._count(ctx, call, answer)

    @staticmethod
    async def _count(ctx: HandlerContext, call: Call, answer: Answer) -> dict[str, Any]:
        """The tokens of the call, added to the attempt's and the run's usage: the provider's
        count, or where it gives none the tokenizer's (engine.tokens), marked `estimated`."""
        prompt = answer.prompt_tokens
        completion = answer.completion_tokens
        estimated = prompt is None or completion is None
        if prompt is None:
            prompt = await tokens_of(count_prompt, call.system, call.messages)
        if completion is None:
            said = answer.text + "".join(c["name"] + c["arguments"] for c in answer.tool_calls)
            completion = await tokens_of(count_tokens, said)
        if ctx.meter is not None:
            ctx.meter.add(prompt, completion, answer.model, estimated)
        usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion}
        if estimated:
            usage["estimated"] = True
        return usage
