"""The names an expression can read while a node runs (SPEC §2), as a lazy read-only view.

Nothing is copied per node: the view looks a name up in the node's own values (`input`, `node`),
then the run's fixed names (`inputs`, `vars`, `run`, `env`, `secrets`), then the outputs of
finished nodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Scope(Mapping):
    """The expression scope of one attempt of one node."""

    __slots__ = ("_attempt", "_fixed", "_input", "_loop", "_node_id", "_outputs")

    def __init__(
        self,
        fixed: Mapping[str, Any],
        outputs: Mapping[str, Any],
        node_id: str,
        attempt: int,
        input: Any,
        loop: Any = None,
    ) -> None:
        self._fixed = fixed
        self._outputs = outputs
        self._node_id = node_id
        self._attempt = attempt
        self._input = input
        self._loop = loop

    def __getitem__(self, name: str) -> Any:
        if name == "input":
            return self._input
        if name == "node":
            return {"id": self._node_id, "attempt": self._attempt}
        if name == "loop" and self._loop is not None:
            return self._loop
        try:
            return self._fixed[name]
        except KeyError:
            return self._outputs[name]

    def _names(self) -> set[str]:
        names = {"input", "node", *self._fixed, *self._outputs}
        if self._loop is not None:
            names.add("loop")
        return names

    def __contains__(self, name: object) -> bool:
        if name in ("input", "node"):
            return True
        if name == "loop":
            return self._loop is not None
        return name in self._fixed or name in self._outputs

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())
