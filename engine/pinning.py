"""Pinned data (issue 17): a node whose document carries `pinned: {"output", "handles"?}` ends
`reused` with that output in the runs that use pins, without running, so the nodes after it
can be built without calling the real service again.

Whether a run uses pins is the caller's decision, given as data (`ExecutionOptions.use_pinned`):
the runtime sets it for runs a person starts, never for runs a trigger starts (a webhook, a
schedule). A pin is part of the document: bounded (`MAX_PINNED_BYTES` as JSON) and storable, as
a node's output must be. Containers cannot be pinned: their output is their body's.
"""

from __future__ import annotations

from engine.handlers.base import ERROR_HANDLE, Handler
from engine.limits import MAX_PINNED_BYTES
from engine.storable import output_problem

PINNED_REASON = "pinned output"


def pinned_problems(node: dict, handler: Handler) -> list[tuple[str, str]]:
    """(field, message) for a pin that cannot apply to this node (validation: bad_config)."""
    pinned = node.get("pinned")
    if not isinstance(pinned, dict) or "output" not in pinned:
        return []  # absent, or a shape problem the schema reports
    if handler.container:
        return [("pinned", f"a {handler.type} node's output comes from its body: unpin it")]
    found = output_problem(pinned["output"], MAX_PINNED_BYTES, "pinned.output")
    if found is not None:
        message = found["message"].replace("for one node", "for pinned data")
        return [("pinned.output", message)]
    handles = pinned.get("handles")
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    known = set(handler.output_handles(config)) | {ERROR_HANDLE}
    if isinstance(handles, list):
        unknown = [h for h in handles if isinstance(h, str) and h not in known]
        if unknown:
            names = ", ".join(sorted(known - {ERROR_HANDLE}))
            return [("pinned.handles", f"{unknown[0]!r} is not an output of this node ({names})")]
    return []


def pinned_result(use_pinned: bool, node: dict, handler: Handler | None) -> tuple | None:
    """(output, handles) of a pinned node in a run that uses pins, else None."""
    pinned = node.get("pinned")
    if not use_pinned or not isinstance(pinned, dict) or handler is None or handler.container:
        return None
    handles = tuple(pinned.get("handles") or ()) or ("out",)
    return pinned.get("output"), handles
