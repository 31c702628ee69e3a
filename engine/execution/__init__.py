"""Running a graph: `Execution` and what it is made of (see engine/README.md)."""

from engine.execution.bodies import waiting_leaves
from engine.execution.execution import SNAPSHOT_VERSION, Execution

__all__ = ["SNAPSHOT_VERSION", "Execution", "waiting_leaves"]
