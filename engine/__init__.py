"""Switchyard's DAG engine: pure Python, no Django. The runtime adapts it (workflows/runtime/).

document = load_document(text)                      # JSON or YAML, defaults applied
problems = validate_document(document)              # every problem at once
graph = Graph.from_document(document)
report = await Execution(graph, inputs={...}, sink=print).run()
"""

from engine.document import DocumentError, Problem, load_document
from engine.events import Event
from engine.execution import Execution
from engine.graph import Graph
from engine.planner import JOIN_RULES, Planner, join_decision
from engine.report import NodeRecord, RunReport
from engine.states import EdgeState, InvalidTransition, NodeState, RunState, transition
from engine.validation import errors_only, validate_document

__all__ = [
    "JOIN_RULES",
    "DocumentError",
    "EdgeState",
    "Event",
    "Execution",
    "Graph",
    "InvalidTransition",
    "NodeRecord",
    "NodeState",
    "Planner",
    "Problem",
    "RunReport",
    "RunState",
    "errors_only",
    "join_decision",
    "load_document",
    "transition",
    "validate_document",
]
