"""Every value of the document: numbers finite, and `secrets` read nowhere but where a
handler sends them."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from engine.schema.validator import join_path
from engine.validation.references import reads_secrets


class ValueChecks:
    """NaN and infinities anywhere; `secrets` in document text outside node configs."""

    def check_values(self) -> None:
        """Numbers are finite everywhere (JSON has no NaN or infinity, and PostgreSQL refuses
        them); outside node configs (checked with their expressions) no text reads `secrets`.
        A field a check above already reported is not reported again."""
        if _plain_json(self.document):
            return
        reported = {(p.node, p.field) for p in self.problems}
        nodes = self.document.get("nodes")
        for path, value in _values_of_note(self.document):
            node, field = self.locate(nodes, path)
            if (node, field) in reported:
                continue
            if isinstance(value, float):
                message = f"{field} must be a finite number, got {value!r}"
                self.add("bad_document", _on(node, message), node=node, field=field)
            elif _read_as_document(path) and reads_secrets(value):
                message = f"{field}: {self.secrets_rule()}"
                self.add("bad_reference", _on(node, message), node=node, field=field)

    def locate(self, nodes: Any, path: tuple) -> tuple[str | None, str]:
        """A value's node (when it is inside a node with a valid id) and field."""
        if len(path) > 2 and path[0] == "nodes" and isinstance(nodes, list):
            node = nodes[path[1]]
            node_id = node.get("id") if isinstance(node, dict) else None
            if node_id in self.nodes and self.nodes[node_id] is node:
                return node_id, join_path("", list(path[2:]))
        return None, join_path("", list(path))


def _on(node: str | None, message: str) -> str:
    return f"node {node}: {message}" if node is not None else message


# What a workflow document holds outside its node configs (a run's copy adds `edits`: the
# configs a user replaced, checked when they were made).
_DOCUMENT_PARTS = frozenset(
    {"name", "description", "tags", "inputs", "variables", "settings", "nodes", "edges"}
)


def _read_as_document(path: tuple) -> bool:
    """Whether a value is document text outside the node configs (those are checked with
    their expressions, where the fields that send secrets are known)."""
    if path[0] == "nodes":
        return path[2:3] != ("config",)
    return path[0] in _DOCUMENT_PARTS


def _plain_json(document: dict) -> bool:
    """The common case, found at C speed: JSON without NaN or infinities that does not even
    mention `secrets`."""
    try:
        return "secrets" not in json.dumps(document, allow_nan=False, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False


def _values_of_note(document: dict) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of each float that is not finite and each string that may hold a
    template reading `secrets`, anywhere in the document. Iterative: nesting depth is not
    bounded here."""
    stack: list[tuple[Any, tuple]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, str):
                if "secrets" in item:
                    yield (*path, key), item
            elif isinstance(item, float):
                if not math.isfinite(item):
                    yield (*path, key), item
            elif isinstance(item, dict | list):
                stack.append((item, (*path, key)))
