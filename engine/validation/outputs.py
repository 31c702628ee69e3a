"""Typed outputs in validation: a node's `output_schema` is a bounded JSON Schema, and what
expressions read from a node that declares one exists in it (engine.output_schema)."""

from __future__ import annotations

from engine import expressions
from engine.output_schema import path_problem, schema_problem


class OutputChecks:
    """`output_schema` itself, and the paths other nodes' expressions read from it."""

    def check_output_schema(self, node_id: str, node: dict) -> None:
        schema = node.get("output_schema")
        if schema is None:
            return
        problem = schema_problem(schema)
        if problem is not None:
            message = f"node {node_id}: output_schema {problem}"
            self.add("bad_config", message, node=node_id, field="output_schema")

    def check_output_paths(self, node_id: str, field: str, expr: str) -> None:
        """Each path `expr` reads from an upstream node's output that its declared schema
        rules out (`bad_reference`: an error, or a warning where the schema leaves it open)."""
        try:
            chains = expressions.referenced_keys(expr)
        except expressions.ExpressionError:
            return  # reported with the expression
        for chain in sorted(chains, key=lambda keys: [str(key) for key in keys]):
            source = self.nodes.get(chain[0]) if isinstance(chain[0], str) else None
            schema = source.get("output_schema") if source is not None else None
            if not isinstance(schema, dict) or len(chain) < 2 or schema_problem(schema):
                continue
            found = path_problem(schema, chain[1:])
            if found is None:
                continue
            severity, why = found
            read = chain[0] + "".join(
                f"[{k}]" if isinstance(k, int) else f".{k}" for k in chain[1:]
            )
            message = (
                f"node {node_id}: {field}: {read}: {why.replace('the output', chain[0], 1)} "
                f"(output_schema of {chain[0]})"
            )
            self.add("bad_reference", message, node=node_id, field=field, severity=severity)
