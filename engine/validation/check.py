"""One validation pass over a document (SPEC §1): every problem at once, with the SPEC's
codes."""

from __future__ import annotations

from typing import Any

from engine.document import Problem
from engine.graph import default_registry
from engine.handlers.base import Handler, Registry
from engine.schema.shape import document_shape_problems
from engine.validation.configs import ConfigChecks
from engine.validation.graph import GraphChecks
from engine.validation.outputs import OutputChecks
from engine.validation.references import ReferenceChecks
from engine.validation.shape import ShapeChecks
from engine.validation.values import ValueChecks


def validate_document(document: Any, *, registry: Registry | None = None) -> list[Problem]:
    """All problems of a document that `load_document` returned (errors and warnings)."""
    if not isinstance(document, dict):
        return [Problem("bad_document", "a workflow document must be an object")]
    registry = default_registry() if registry is None else registry
    check = _Check(document, registry)
    try:
        return check.run()
    except RecursionError:  # JSON nested thousands deep: the schema walks cannot follow it
        return [Problem("bad_document", "the document is nested too deeply")]


def all_problems(document: Any, *, registry: Registry | None = None) -> list[Problem]:
    """Every problem of a document in one pass, in one order, whoever asks (the API, the
    CLI, a config edit): its shape's (unknown fields, wrong types, missing fields: what the
    API refuses outright), then `validate_document`'s that the shape did not already name."""
    shaped, rest = problems_in_parts(document, registry=registry)
    return shaped + rest


def problems_in_parts(
    document: Any, *, registry: Registry | None = None
) -> tuple[list[Problem], list[Problem]]:
    """`all_problems` in its two parts: the shape's (the API refuses a document for them)
    and the rest, so a caller that needs both checks the shape once."""
    if not isinstance(document, dict):
        return [], validate_document(document, registry=registry)
    try:
        shaped = document_shape_problems(document)
    except RecursionError:
        shaped = []  # validate_document says it
    return shaped, not_said(validate_document(document, registry=registry), shaped, document)


def not_said(problems: list[Problem], shaped: list[Problem], document: dict) -> list[Problem]:
    """The graph's problems but those the shape check already named (one pass reports every
    problem once, whoever asks: the API, the CLI, a run)."""
    if not shaped:
        return problems
    said = {found.field for found in shaped if found.field}
    nodes = document.get("nodes") if isinstance(document.get("nodes"), list) else []
    index = {}
    for i, node in enumerate(nodes):
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            index.setdefault(node["id"], i)
    return [found for found in problems if (shape_field(found, index) or "") not in said]


def shape_field(found: Problem, index: dict[str, int]) -> str | None:
    """Where the shape check would name this problem (`nodes[1].disabled`)."""
    field = "type" if found.code == "unknown_type" else found.field
    if found.node is None or found.node not in index or field is None:
        return found.field
    return f"nodes[{index[found.node]}].{field}"


class _Check(ShapeChecks, GraphChecks, ConfigChecks, ReferenceChecks, OutputChecks, ValueChecks):
    """One validation pass; collects problems instead of stopping at the first."""

    def __init__(self, document: dict, registry: Registry) -> None:
        self.document = document
        self.registry = registry
        self.problems: list[Problem] = []
        self.nodes: dict[str, dict] = {}  # first node of each id
        self.handlers: dict[str, Handler] = {}
        self.preds: dict[str, list[str]] = {}
        self.succs: dict[str, list[str]] = {}

    def add(self, code: str, message: str, **where: Any) -> None:
        self.problems.append(Problem(code, message, **where))

    def run(self) -> list[Problem]:
        self.check_top_level()
        self.check_settings()
        self.check_inputs()
        self.check_nodes()
        self.check_parents()
        self.check_edges()
        cycles = self.check_cycles()
        ancestors = self.ancestors(cyclic=bool(cycles))
        for node_id, node in self.nodes.items():
            self.check_output_schema(node_id, node)
            handler = self.handlers.get(node_id)
            if handler is not None:
                self.check_config(node_id, node, handler)
                self.check_expressions(node_id, node, handler, ancestors)
        self.check_reachable()
        self.check_values()
        return self.problems


def errors_only(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a run (warnings removed)."""
    return [problem for problem in problems if problem.severity == "error"]
