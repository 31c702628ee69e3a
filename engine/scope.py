"""The names an expression can read while a node runs (SPEC §2), as a lazy read-only view.

Nothing is copied per node: the view looks a name up in the node's own values (`input`, `node`),
then the run's fixed names (`inputs`, `vars`, `run`, `env`, `secrets`), then the outputs of
finished nodes.

`secrets` are hidden: reading them fails (`SecretsRefused`) except in the view that
`with_secrets()` returns, which only renders the config fields that send them (a handler's
`secret_fields`, e.g. an http node's headers). So no expression elsewhere, however it is
written (`upper()`, `[::-1]`, a list of characters), can carry a secret into an output, a
condition or an error that a reader of the run sees.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.expressions import ExpressionError

SECRETS = "secrets"


class SecretsRefused(ExpressionError):
    """An expression read `secrets` outside the fields that send them."""

    def __init__(self) -> None:
        super().__init__(
            "secrets may only be used in the config fields that send them "
            "(the headers of an http node)"
        )


class Scope(Mapping):
    """The expression scope of one attempt of one node."""

    __slots__ = ("_attempt", "_fixed", "_input", "_loop", "_node_id", "_outputs", "_secrets")

    def __init__(
        self,
        fixed: Mapping[str, Any],
        outputs: Mapping[str, Any],
        node_id: str,
        attempt: int,
        input: Any,
        loop: Any = None,
        secrets: bool = False,
    ) -> None:
        self._secrets = secrets
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
        if name == SECRETS and not self._secrets:
            raise SecretsRefused()
        try:
            return self._fixed[name]
        except KeyError:
            return self._outputs[name]

    def with_secrets(self) -> Scope:
        """The same view with `secrets` readable: for rendering the fields that send them."""
        return Scope(
            self._fixed,
            self._outputs,
            self._node_id,
            self._attempt,
            self._input,
            self._loop,
            secrets=True,
        )

    def get(self, name: str, default: Any = None) -> Any:
        if name == SECRETS and not self._secrets:
            return default  # as if absent, like `in` says
        return super().get(name, default)

    def _names(self) -> set[str]:
        names = {"input", "node", *self._fixed, *self._outputs}
        if self._loop is not None:
            names.add("loop")
        if not self._secrets:
            names.discard(SECRETS)
        return names

    def __contains__(self, name: object) -> bool:
        if name in ("input", "node"):
            return True
        if name == "loop":
            return self._loop is not None
        if name == SECRETS and not self._secrets:
            return False
        return name in self._fixed or name in self._outputs

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())
