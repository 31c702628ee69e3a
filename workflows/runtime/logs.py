"""Log lines of the runtime name their run and node: `[run 42 node fetch] cache lookup failed`.

The run comes from a ContextVar the drive sets for the run it executes (and the tasks it starts
inherit), the node from the engine's (`engine.logcontext`: each node's task has its own);
a call may also name them (`extra={"run_id": 7}`). The filter puts both on the record
(`record.run_id`, `record.node`, `-` when there is none) for structured handlers, and in front
of the message so every handler shows them. A filter on a logger applies only to the records
of that logger, so each runtime module takes its logger from `runtime_logger(__name__)`."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from engine.logcontext import CURRENT_NODE

CURRENT_RUN: ContextVar[int | None] = ContextVar("switchyard_current_run", default=None)


class RunContext(logging.Filter):
    """Adds the run id and the node to a record (and its message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "run_id", None) is None:
            record.run_id = CURRENT_RUN.get() or "-"
        if getattr(record, "node", None) is None:
            record.node = CURRENT_NODE.get() or "-"
        if not getattr(record, "run_context", False):  # once, whatever handlers follow
            record.run_context = True
            # node ids and iteration paths hold no `%`: the message's own arguments still fit
            record.msg = f"[run {record.run_id} node {record.node}] {record.msg}"
        return True


def runtime_logger(name: str) -> logging.Logger:
    """The module's logger, its lines naming their run and node."""
    logger = logging.getLogger(name)
    if not any(isinstance(found, RunContext) for found in logger.filters):
        logger.addFilter(RunContext())
    return logger
