"""The expressions of node configs: they parse, and what they read exists upstream."""

from __future__ import annotations

from collections.abc import Iterator

from engine import expressions
from engine.config import expression_values, templated_values
from engine.handlers.base import Handler


class ReferenceChecks:
    """Expressions parse; references name declared inputs, variables, env and upstream nodes;
    secrets are read only where a handler sends them."""

    def check_expressions(
        self, node_id: str, node: dict, handler: Handler, ancestors: dict[str, int]
    ) -> None:
        config = node.get("config")
        if not isinstance(config, dict):
            return
        for field, expr in self.expressions_of(config, handler):
            try:
                paths = expressions.referenced_paths(expr)
            except expressions.ExpressionError as exc:
                self.add(
                    "bad_expression",
                    f"node {node_id}: {field}: {exc.message}",
                    node=node_id,
                    field=field,
                )
                continue
            if any(path[0] == "secrets" for path in paths) and not _sends(handler, config, field):
                message = f"node {node_id}: {field}: {self.secrets_rule()}"
                self.add("bad_reference", message, node=node_id, field=field)
            typed = False
            for path in sorted(paths):
                message = self.bad_reference(node_id, path, ancestors)
                if message is not None:
                    self.add(
                        "bad_reference",
                        f"node {node_id}: {field}: {message}",
                        node=node_id,
                        field=field,
                    )
                elif path[0] in self.nodes and "output_schema" in self.nodes[path[0]]:
                    typed = True
            if typed:
                self.check_output_paths(node_id, field, expr)  # engine/validation/outputs.py

    @staticmethod
    def expressions_of(config: dict, handler: Handler) -> Iterator[tuple[str, str]]:
        paths = handler.expression_fields
        for field, value in templated_values(config, paths):
            for expr in expressions.template_expressions(value):
                yield field, expr
        for field, value in expression_values(config, paths):
            if isinstance(value, str):
                yield field, value

    def container_reads(self, node_id: str, path: tuple[str, ...]) -> str | None:
        """A container's own condition reads `loop` and its body's nodes (the latest
        iteration): "" when `path` is such a read, None when it is not."""
        handler = self.handlers.get(node_id)
        if handler is None or not handler.container:
            return None
        if path[0] == "loop":
            return ""
        if path[0] in self.nodes:
            parent = self.parent_of(path[0])
            for _ in range(len(self.nodes)):
                if parent is None:
                    break
                if parent == node_id:
                    return ""
                parent = self.parent_of(parent)
        return None

    def bad_reference(self, node_id: str, path: tuple[str, ...], ancestors: dict) -> str | None:
        root = path[0]
        name = path[1] if len(path) > 1 else None
        if root in ("input", "node", "run", "secrets"):
            return None
        own = self.container_reads(node_id, path)
        if own is not None:
            return own or None
        if root == "loop":
            if self.nodes[node_id].get("parent") is None:
                return "loop is only defined inside a loop or map body"
            return None
        if root == "inputs":
            declared = self.document.get("inputs")
            if name is not None and isinstance(declared, dict) and name not in declared:
                return f"inputs.{name} is not a declared input"
            return None
        if root == "vars":
            variables = self.document.get("variables")
            if name is not None and isinstance(variables, dict) and name not in variables:
                return f"vars.{name} is not a defined variable"
            return None
        if root == "env":
            settings = self.document.get("settings")
            allowed = settings.get("env") if isinstance(settings, dict) else None
            if name is not None and (not isinstance(allowed, list) or name not in allowed):
                return f"env.{name} is not allow-listed in settings.env"
            return None
        if root in self.nodes:
            if not ancestors.get(node_id, 0) & self.bits[root]:
                return f"{root} is not upstream of {node_id}"
            return None
        return f"unknown name {root!r} (not a node, input or variable)"

    def secrets_rule(self) -> str:
        """`secrets may only be used in config.headers of http nodes`: where they may be."""
        places = [
            f"config.{field} of {name} nodes"
            for name in self.registry.names()
            for field in self.registry.get(name).secret_fields
        ]
        return f"secrets may only be used in {' or '.join(places) or 'no field'}"


def _sends(handler: Handler, config: dict, field: str) -> bool:
    """Whether a config field (`config.headers.Authorization`) lies in one of the fields
    where the handler sends secrets (`secret_fields`)."""
    for where, _ in expression_values(config, handler.secret_fields):
        if field == where or field.startswith((where + ".", where + "[")):
            return True
    return False


def reads_secrets(text: str) -> bool:
    if "{{" not in text:
        return False
    for expr in expressions.template_expressions(text):
        try:
            paths = expressions.referenced_paths(expr)
        except expressions.ExpressionError:
            continue
        if any(path[0] == "secrets" for path in paths):
            return True
    return False
