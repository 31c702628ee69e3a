"""A failed run's root causes (engine.causes) as text: for `inspect` and the admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_NAMED = 10  # affected nodes named in a line; the rest are counted


def cause_line(cause: Mapping[str, Any]) -> str:
    """`fetch: HTTP 500 (http) — took down 3: parse, store, notify`; a body node names its
    iteration, and how many more failed the same way."""
    error = cause.get("error") or {}
    where = cause["node"] or "the run"
    if cause.get("iteration"):
        where += f" in {cause['iteration']}"
        more = len(cause.get("iterations") or ()) - 1
        if more > 0:
            where += f" (and {more} more iteration{'s' if more > 1 else ''})"
    line = f"{where}: {error.get('message') or 'failed'} ({error.get('type') or 'error'})"
    affected = list(cause.get("affected") or ())
    if affected:
        named = ", ".join(affected[:MAX_NAMED])
        if len(affected) > MAX_NAMED:
            named += f", … {len(affected) - MAX_NAMED} more"
        line += f" — took down {len(affected)}: {named}"
    return line


def cause_lines(causes: list[Mapping[str, Any]]) -> list[str]:
    """`Root cause(s):` and one indented line per cause; nothing when there is none."""
    if not causes:
        return []
    title = "Root cause:" if len(causes) == 1 else f"Root causes ({len(causes)}):"
    return [title, *(f"  {cause_line(cause)}" for cause in causes)]
