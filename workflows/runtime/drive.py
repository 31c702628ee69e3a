"""Driving one run: build the engine `Execution` from the run (fresh, resumed from its saved
state, or taken over from its rows), apply what users asked meanwhile, execute it to its end or
its next park, and end the drive (`finish.finish_run`)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

from engine import Graph
from engine.events import Event
from engine.execution import Execution
from engine.states import RunState
from engine.usage import RunUsage
from workflows import conf, dispatch
from workflows.models import NodeRun, RunTrigger, WorkflowRun
from workflows.runtime import children
from workflows.runtime.cache import RowCache
from workflows.runtime.db import db
from workflows.runtime.finish import finish_or_end
from workflows.runtime.graphs import graph_of
from workflows.runtime.leases import LeaseLost, keep_lease
from workflows.runtime.loading import load_run
from workflows.runtime.logs import CURRENT_RUN
from workflows.runtime.publish import Publisher
from workflows.runtime.recorder import RunRecorder
from workflows.runtime.rerun import rerun_snapshot
from workflows.runtime.snapshots import mark_interrupted, snapshot_from_rows
from workflows.runtime.watches import StallWatch, hand_over_decisions, settle_retried_rows
from workflows.secrets import secrets_for
from workflows.selectors import usage_totals

# Runs a person starts use nodes' pinned data (engine.pinning); a trigger's (webhook, schedule),
# an API client's and a sub-workflow's never do.
USES_PINS = frozenset({RunTrigger.MANUAL, RunTrigger.RERUN})


def execution_options(run: WorkflowRun) -> dict[str, Any]:
    """The engine options of a run (its `subworkflow` nodes drive children here too). The
    secrets are its workflow owner's and the server's, read with the run (load_for_execution),
    and its token budget starts from what its earlier drives used."""
    context = expression_context()
    if getattr(run, "run_secrets", None) is not None:
        context["secrets"] = run.run_secrets
    budget = (run.document.get("settings") or {}).get("max_tokens")
    return {
        **children.execution_options(run, execute_leased),
        "http_allow_private": conf.value("HTTP_ALLOW_PRIVATE"),
        "max_output_preview": conf.value("EVENT_PREVIEW_BYTES"),
        "max_output_bytes": conf.value("MAX_OUTPUT_BYTES"),
        "dry_run": run.mode == "dry_run",
        "debug": run.mode == "debug",
        "durable_delay_threshold_s": conf.value("DURABLE_DELAY_S"),
        "node_slots": node_slots(),
        "cache": RowCache(run.workflow_id),
        "trigger": {"node": run.trigger_node, "data": run.trigger_data}
        if run.trigger_node
        else None,
        **context,
        "usage": RunUsage(budget, getattr(run, "tokens_used", None)),
        "use_pinned": run.trigger in USES_PINS,
    }


_node_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def node_slots() -> asyncio.Semaphore | None:
    """This process's node slots (SWITCHYARD_WORKER_MAX_NODES), shared by every run it drives
    on this event loop: the worker's global cap."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    slots = _node_slots.get(loop)
    if slots is None:
        for stale in [other for other in _node_slots if other.is_closed()]:
            del _node_slots[stale]
        slots = _node_slots[loop] = asyncio.Semaphore(conf.value("WORKER_MAX_NODES"))
    return slots


def expression_context() -> dict[str, Any]:
    """`env` and `secrets` for expressions: the allow-listed environment variables that are
    set (a workflow reads those its settings.env names) and the configured named secrets."""
    return {
        "env": {name: os.environ[name] for name in conf.value("ENV_ALLOW") if name in os.environ},
        "secrets": dict(conf.value("SECRETS")),
    }


def graph_for(run: WorkflowRun) -> Graph:
    return graph_of(run.workflow_id, run.revision, run.document)


def load_for_execution(run_id: int) -> tuple[WorkflowRun, dict | None]:
    """The run and the state to continue from (None: start from the beginning); also the
    secrets its owner's workflows read and the tokens it used so far (its budget's start)."""
    run, text = load_run(run_id)
    run.run_secrets = secrets_for(run.workflow.owner_id) if reads_secrets(run, text) else None
    run.tokens_used = None
    if run.status != RunState.QUEUED or run.state is not None:  # it ran before: nodes used some
        rows = NodeRun.objects.filter(run_id=run_id, usage__isnull=False).values_list(
            "usage", flat=True
        )
        run.tokens_used = usage_totals(rows) if rows else None
    if run.status == RunState.RUNNING:  # taken over from a worker that died
        snapshot = snapshot_from_rows(run)
        mark_interrupted(run)
        return run, snapshot
    if run.source_run_id and run.from_node and run.state is None:  # partial re-run
        return run, rerun_snapshot(run)
    return run, run.state  # queued: fresh, or resumed after a pause (state saved at parking)


def reads_secrets(run: WorkflowRun, text: str | None = None) -> bool:
    """Whether the run may read its owner's stored secrets: its document names one (an
    `{{ secrets.x }}` template, an llm node's `api_key_secret`) or grows nodes at run time
    (`fan_out`), which might. Most runs read none, and skip the query and the decryption; the
    server's SWITCHYARD_SECRETS are there either way (expression_context)."""
    if text is None:  # the document's JSON as the database gave it, when it did
        text = json.dumps(run.document, check_circular=False)
    return "secret" in text or "fan_out" in text


def apply_requests(run: WorkflowRun, execution: Execution) -> None:
    """What users asked for while no worker held the run: resume a waiting node, cancel. A
    request the saved state no longer allows (checked when it was made, so only a state
    changed by hand gets here) is dropped with a warning event instead of breaking the run."""
    resume = (run.state or {}).get("resume") if run.status != RunState.RUNNING else None
    approve = (run.state or {}).get("approve") if run.status != RunState.RUNNING else None
    for decision in [approve] if isinstance(approve, dict) else approve or ():
        iteration = decision.get("iteration") or ""
        try:
            execution.approve_node(
                decision["node"],
                decision["approved"],
                decision.get("data"),
                decision.get("by"),
                iteration=iteration,
            )
        except (KeyError, ValueError) as exc:
            where = f"{decision['node']} in {iteration}" if iteration else decision["node"]
            execution.warn(f"the decision on {where} was not applied: {exc}")
    if resume:
        execution.unpause()  # a resume ends a pause on demand too
    if resume and resume.get("node"):
        iteration = resume.get("iteration") or ""
        try:
            if resume["action"] == "skip":
                execution.skip_node(resume["node"], iteration=iteration)
            else:
                execution.retry_node(resume["node"], resume.get("config"), iteration=iteration)
        except (KeyError, ValueError) as exc:
            execution.warn(f"the {resume['action']} of {resume['node']} was not applied: {exc}")
    if run.cancel_requested_at is not None:
        execution.cancel("by user")
    elif run.pause_request and not resume:  # asked while the run ran; its worker had died
        execution.pause(run.pause_request.get("by"))


def retried_node(run: WorkflowRun) -> tuple[str, str] | None:
    """The (node, iteration) a resume runs again: past its breakpoint, or after the failure
    it parked on (on_failure=pause)."""
    resume = (run.state or {}).get("resume") if run.status != RunState.RUNNING else None
    if not resume or resume.get("action") in ("skip", "continue") or not resume.get("node"):
        return None
    return resume["node"], resume.get("iteration") or ""


async def execute_leased(
    run_id: int,
    owner: str,
    lease_s: float,
    *,
    act: Callable[[Execution], None] | None = None,
    observer: Callable[[Event], None] | None = None,
    stall_s: float | None = None,
):
    """Drive a run whose lease `owner` holds, with a publisher of its own, renewing the lease
    meanwhile (the CLI and sub-workflow children; a worker shares one publisher); with
    `stall_s`, stall-checked at each renewal like a worker's runs."""
    publisher = Publisher()
    renewing: list[asyncio.Task] = []

    def started(execution: Execution, recorder: RunRecorder) -> None:
        if observer is not None:
            recorder.observers.append(observer)
        check = None
        if stall_s is not None:
            check = StallWatch(run_id, owner, execution, recorder, stall_s).check
        renewing.append(
            asyncio.create_task(
                keep_lease(run_id, owner, lease_s, execution, recorder, on_renewed=check)
            )
        )

    try:
        report = await drive(run_id, owner, publisher, act=act, started=started)
        await publisher.drain()
        return report
    finally:
        for task in renewing:
            task.cancel()
        publisher.close()


async def drive(
    run_id: int,
    owner: str,
    publisher: Publisher,
    *,
    act: Callable[[Execution], None] | None = None,
    started: Callable[[Execution, RunRecorder], None] | None = None,
):
    """Execute a run this owner holds the lease of, to its end or its next park; the log
    lines written meanwhile (in the tasks it starts too) name the run (runtime/logs.py)."""
    token = CURRENT_RUN.set(run_id)
    try:
        return await drive_run(run_id, owner, publisher, act=act, started=started)
    finally:
        CURRENT_RUN.reset(token)  # a child run is driven inside its parent's node


async def drive_run(
    run_id: int,
    owner: str,
    publisher: Publisher,
    *,
    act: Callable[[Execution], None] | None = None,
    started: Callable[[Execution, RunRecorder], None] | None = None,
):
    run, snapshot = await db(load_for_execution, run_id)
    recorder = RunRecorder(run_id, owner, publisher)
    execution = Execution(
        graph_for(run),
        inputs=run.inputs,
        run_id=run_id,
        sink=recorder.sink,
        store=recorder,
        snapshot=snapshot,
        options=execution_options(run),
    )
    recorder.execution = execution
    apply_requests(run, execution)
    if retried := retried_node(run):
        await db(settle_retried_rows, run_id, *retried)
    # nodes parked on a child that ended continue; a cancelled run's children end first
    await children.before_drive(run, execution, execute_leased)
    if act is not None:
        act(execution)
    if started is not None:
        started(execution, recorder)
    report = await execution.run()
    await recorder.flush()
    if recorder.lease_lost:
        raise recorder.fence or LeaseLost(f"run {run_id} is no longer owned by {owner}")
    await children.after_drive(run_id, execution, str(report.status), execute_leased)
    state = execution.snapshot() if report.status == RunState.PAUSED else None
    final = [event.to_dict() for event in recorder.final]
    top_level = run.parent_run_id is None
    if await finish_or_end(publisher, run_id, owner, report, state, final, top_level) and final:
        publisher.publish(run_id, final)
    if report.status == RunState.PAUSED and await db(hand_over_decisions, run_id):
        await db(dispatch.run_queued, run_id)  # decided while it ran: on without waiting
    return report
