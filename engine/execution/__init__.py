"""Running a graph: `Execution` and what it is made of (see engine/README.md)."""

from engine.execution.bodies import waiting_leaves
from engine.execution.execution import Execution
from engine.execution.options import ExecutionOptions
from engine.execution.restore import SNAPSHOT_VERSION

__all__ = ["SNAPSHOT_VERSION", "Execution", "ExecutionOptions", "waiting_leaves"]
