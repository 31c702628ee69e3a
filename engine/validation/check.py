"""One validation pass over a document (SPEC §1): every problem at once, with the SPEC's
codes."""

from __future__ import annotations

from typing import Any

from engine.document import Problem
from engine.graph import default_registry
from engine.handlers.base import Handler, Registry
from engine.validation.configs import ConfigChecks
from engine.validation.graph import GraphChecks
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


class _Check(ShapeChecks, GraphChecks, ConfigChecks, ReferenceChecks, ValueChecks):
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
        self.check_nodes()
        self.check_parents()
        self.check_edges()
        cycles = self.check_cycles()
        ancestors = self.ancestors(cyclic=bool(cycles))
        for node_id, node in self.nodes.items():
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
