"""Recovery on failure: a node's `on_failure: {"run": <workflow>}` runs that saved workflow as
a linked child run when the node fails after its last attempt (through the runtime's
`run_subworkflow`, like a `subworkflow` node), with the failure as its input `failure`.

The node stays failed; what its recovery did is kept in its error (`error.recovery`:
`{"workflow", "run"?, "status", "message"?}`), so the failure's event, the node's row, the
run report and the API all show it. The run then goes on as its `settings.on_failure` says
(continue, halt, pause) and as the node's error edges say: the recovery runs first, so a
halt's cleanup happens before the halt and a pause shows the recovery's outcome.

Recursion is bounded twice: each recovery is one sub-workflow level deeper (the runtime's
nesting limit), and the runtime refuses to start a workflow as the recovery of a run that is
itself a recovery run of that workflow (`status: refused`).
"""

from __future__ import annotations

from typing import Any

from engine.handlers.base import NodeError, Wait
from engine.report import NodeRecord

RECOVERY_ITERATION = "{}[on_failure]"  # how the runtime tells a recovery child from the node's own


class Recovery:
    """Part of `Execution`: running a failed node's recovery workflow."""

    async def _recover(self, i: int, record: NodeRecord, error: dict) -> None:
        """Run node `i`'s recovery, if it has one, and note its outcome in `error`."""
        target = (self.graph.nodes[i].get("on_failure") or {}).get("run")
        if target is None:
            return
        recovery: dict[str, Any] = {"workflow": target}
        error["recovery"] = recovery
        runner = self._options.run_subworkflow
        if self._options.dry_run:
            recovery.update(status="skipped", message="dry run: recovery not started")
            return
        if runner is None:
            message = "recovery needs a runtime that can start child runs"
            recovery.update(status="refused", message=message)
            return
        node_id = self.graph.ids[i]
        try:
            outcome = await runner(
                target,
                {"failure": self._failure_input(i, record, error)},
                self._options.depth + 1,
                node_id,
                attempt=record.attempts,
                iteration=RECOVERY_ITERATION.format(node_id),
                log=lambda message: self._log(i, f"recovery: {message}"),
                started=lambda run: recovery.__setitem__("run", run),
                recovery=True,
            )
        except NodeError as exc:
            refused = exc.type in ("recursion", "subworkflow") and "run" not in recovery
            status = "refused" if refused else "failed"
            recovery.update(status=status, message=self._recorder.redact(exc.message))
        else:
            recovery["status"] = "paused" if isinstance(outcome, Wait) else "succeeded"
        self._log(i, self._recovery_line(recovery))

    def _failure_input(self, i: int, record: NodeRecord, error: dict) -> dict[str, Any]:
        """What the recovery workflow reads as `inputs.failure`."""
        message = self._recorder.redact(str(error.get("message")))
        return {
            "run": self.run_id,
            "node": self.graph.ids[i],
            "iteration": self.path,
            "attempts": record.attempts,
            "error": {"message": message, "type": error.get("type")},
            "input": record.input,  # already redacted
        }

    @staticmethod
    def _recovery_line(recovery: dict) -> str:
        run = f" run {recovery['run']}" if "run" in recovery else ""
        line = f"recovery workflow {recovery['workflow']}{run} {recovery['status']}"
        return f"{line}: {recovery['message']}" if "message" in recovery else line
