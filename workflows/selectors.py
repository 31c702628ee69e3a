"""Reads: workflows and runs as a user sees them — their own, and those shared with them
(SPEC §6). Anything else is a 404; changing a workflow shared with you is a 403."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from engine.report import failure_causes, with_dry_run_plan
from engine.schedule import ScheduleError, upcoming
from workflows import conf
from workflows import documents as translate
from workflows.errors import SwitchyardError, problem
from workflows.models import NodeRun, RunEvent, Workflow, WorkflowEdge, WorkflowNode, WorkflowRun

EVENTS_LIMIT_MAX = 1000


def visible(user, runs: bool = False) -> Q:
    """Workflows (with `runs`, runs of workflows) the user owns or that are shared with them.
    A subquery, not a join, so a listing keeps one row per object."""
    shared = Workflow.shared_with.through.objects.filter(user_id=user.pk).values("workflow_id")
    if runs:
        return Q(workflow__owner_id=user.pk) | Q(workflow_id__in=shared)
    return Q(owner_id=user.pk) | Q(pk__in=shared)


def workflow_list(*, user, tag: str | None = None) -> QuerySet[Workflow]:
    """The user's workflows and those shared with them, newest change first, with node count
    and last run status; with `tag`, only those whose tags include it (exactly)."""
    last_run = WorkflowRun.objects.filter(workflow=OuterRef("pk")).order_by("-created_at", "-id")
    found = Workflow.objects.filter(visible(user))
    if tag is not None and connection.vendor == "postgresql":
        found = found.filter(tags__contains=[tag])  # jsonb @>
    elif tag is not None:  # SQLite has no JSON containment
        tagged = [pk for pk, tags in found.values_list("pk", "tags") if tag in (tags or ())]
        found = found.filter(pk__in=tagged)
    return (
        found.select_related("owner")
        .annotate(
            node_count=Count("nodes", distinct=True),
            last_run_status=Subquery(last_run.values("status")[:1]),
        )
        .order_by("-updated_at", "-id")
    )


class ReadOnly(SwitchyardError):
    status_code = 403


def workflow_get(
    *, user, workflow_id: int, for_update: bool = False, change: bool = False
) -> Workflow:
    """A workflow the user may see; with `change`, one they may change (their own: a shared
    workflow is read and run only, 403)."""
    # By primary key, then the visibility check in Python (one more query only for a workflow
    # that is not the user's own): building the ORM query with `visible()`'s OR and subquery
    # cost more than running it, on every run submission.
    queryset = Workflow.objects.select_related("owner")
    if for_update:
        queryset = queryset.select_for_update()
    workflow = queryset.filter(pk=workflow_id).first()
    if workflow is None or not may_see(user, workflow):
        raise Http404(f"workflow {workflow_id} not found")
    if change and workflow.owner_id != user.pk:
        owner = workflow.owner.get_username()
        raise ReadOnly(
            [
                problem(
                    "read_only",
                    f"workflow {workflow_id} is shared with you to see and run; only its owner "
                    f"{owner} can change it",
                )
            ]
        )
    return workflow


def may_see(user, workflow: Workflow) -> bool:
    """As `visible()`, for one workflow: the user's own, or shared with them."""
    if workflow.owner_id == user.pk:
        return True
    shared = Workflow.shared_with.through.objects.filter(workflow_id=workflow.pk, user_id=user.pk)
    return user.pk is not None and shared.exists()


def workflow_sharing(*, workflow: Workflow) -> dict[str, Any]:
    names = workflow.shared_with.order_by("username").values_list("username", flat=True)
    return {"owner": workflow.owner.get_username(), "shared_with": list(names)}


def workflow_document(*, workflow: Workflow) -> dict[str, Any]:
    """The workflow's SPEC §1 document, read from its rows in document order (2 queries)."""
    nodes = WorkflowNode.objects.filter(workflow=workflow).order_by("order")
    edges = WorkflowEdge.objects.filter(workflow=workflow).order_by("order")
    edge_columns = (*translate.EDGE_COLUMNS, "source__node_id", "target__node_id")
    node_rows = nodes.values_list(*translate.NODE_COLUMNS)
    return {
        **translate.workflow_header(workflow),
        "nodes": [translate.node_document(row) for row in node_rows],
        "edges": [translate.edge_document(row) for row in edges.values_list(*edge_columns)],
    }


def workflow_body(*, workflow: Workflow, document: dict | None = None) -> dict[str, Any]:
    """What the API answers for one workflow: the document plus id, revision, valid, errors."""
    if document is None:
        document = workflow_document(workflow=workflow)
    return {
        "id": workflow.pk,
        **document,
        "revision": workflow.revision,
        "valid": workflow.valid,
        "errors": workflow.errors,
        "owner": workflow.owner.get_username(),
        "active": workflow.active,
        "triggers": trigger_list(workflow=workflow, document=document),
    }


UPCOMING_FIRES = 5


def trigger_list(*, workflow: Workflow, document: dict) -> list[dict[str, Any]]:
    """The document's webhook and schedule nodes as SPEC §8 shows them: a webhook's `url`, a
    schedule's `next_fire_at` (while armed) and its next five fire times (`upcoming`)."""
    wanted = [n["id"] for n in document["nodes"] if n["type"] in ("webhook", "schedule")]
    if not wanted:
        return []
    rows = {row.node_id: row for row in workflow.triggers.filter(node_id__in=wanted)}
    now, found = timezone.now(), []
    for node_id in wanted:
        row = rows.get(node_id)
        if row is None:
            continue
        item = {"node": node_id, "type": row.type, "armed": row.armed}
        item["last_fire_at"] = translate.iso(row.last_fire_at)
        if row.type == "webhook":
            item["url"] = f"/hooks/{row.token}/"
        else:
            item["next_fire_at"] = translate.iso(row.next_fire_at)
            try:
                item["upcoming"] = [
                    translate.iso(at) for at in upcoming(row.config, now, UPCOMING_FIRES)
                ]
            except (ScheduleError, KeyError, ValueError):
                item["upcoming"] = []
        found.append(item)
    return found


def run_list(
    *, user, workflow_id: int | None = None, status: str | None = None, trigger: str | None = None
) -> QuerySet:
    runs = WorkflowRun.objects.filter(visible(user, runs=True)).select_related("workflow")
    if workflow_id is not None:
        runs = runs.filter(workflow_id=workflow_id)
    if status:
        runs = runs.filter(status=status)
    if trigger:
        runs = runs.filter(trigger=trigger)
    return runs.defer("document", "state", "inputs", "outputs").order_by("-created_at", "-id")


def run_get(*, user, run_id: int) -> WorkflowRun:
    run = WorkflowRun.objects.filter(visible(user, runs=True), pk=run_id).first()
    if run is None:
        raise Http404(f"run {run_id} not found")
    return run


def run_events(*, run: WorkflowRun, after: int = 0, limit: int = EVENTS_LIMIT_MAX) -> list:
    """The run's events with `seq > after`, in order, at most `limit` of them."""
    limit = max(1, min(limit, EVENTS_LIMIT_MAX))
    return list(RunEvent.objects.filter(run=run, seq__gt=after).order_by("seq")[:limit])


def run_report(*, run: WorkflowRun, just_created: bool = False) -> dict[str, Any]:
    """The SPEC §7 report of a run plus its identity and every node attempt (`node_runs`).
    `just_created`: the run was created by this request, so it has no attempts nor child runs
    yet (not read, then)."""
    node_runs = (
        []
        if just_created
        else list(
            NodeRun.objects.filter(run=run)
            .defer("memory")  # an llm node's memory: for a takeover, never shown
            .order_by("iteration", "node_id", "attempt")
        )
    )
    document = run.document if just_created else run.ran_document
    report = {
        "id": run.pk,
        "run": run.pk,
        "workflow": run.workflow_id,
        "revision": run.revision,
        "status": run.status,
        "stalled": run_is_stalled(run),
        "mode": run.mode,
        "trigger": run.trigger,
        "inputs": run.inputs,
        "outputs": run.outputs,
        "error": run.error,
        "created_at": translate.iso(run.created_at),
        "started_at": translate.iso(run.started_at),
        "finished_at": translate.iso(run.finished_at),
        "from_node": run.from_node or None,
        "source_run": run.source_run_id,
        "parent_run": run.parent_run_id,
        "parent_workflow": parent_workflow(run),
        "parent_node": run.parent_node or None,
        "child_runs": [] if just_created else child_runs(run=run),
        "edits": run.document.get("edits", []),
        "nodes": top_level_nodes(document, node_runs),
        "iterations": iterations(node_runs),
        "node_runs": [priced(translate.node_run_body(node_run)) for node_run in node_runs],
        "usage": usage_totals(node_run.usage for node_run in node_runs if node_run.usage),
    }
    report["reuse"] = reuse_summary(node_runs)
    report["root_causes"] = failure_causes(
        run.status, document_edges(document), report["nodes"], report["iterations"], run.error
    )
    # A dry run says which nodes a real run would execute (`would_run`, `placeholders`).
    return with_dry_run_plan(report) if run.mode == "dry_run" else report


def run_root_causes(*, run: WorkflowRun) -> list[dict[str, Any]]:
    """A failed run's root causes (engine.causes), read from its rows; [] for any other run."""
    if run.status != "failed":
        return []
    node_runs = list(NodeRun.objects.filter(run=run).order_by("iteration", "node_id", "attempt"))
    document = run.ran_document
    nodes = top_level_nodes(document, node_runs)
    return failure_causes(
        run.status, document_edges(document), nodes, iterations(node_runs), run.error
    )


def reuse_summary(node_runs: list[NodeRun]) -> dict[str, int]:
    """How many node executions ended `reused` and how long their original attempts took
    (`saved_ms`: read from those attempts' rows, one query when there are any)."""
    reused = [row for row in node_runs if row.status == "reused"]
    if not reused:
        return {"nodes": 0, "saved_ms": 0}
    originals = NodeRun.objects.filter(
        run_id__in={row.reused_from for row in reused},
        cache_key__in={row.cache_key for row in reused},
        status="succeeded",
    ).values_list("run_id", "cache_key", "duration_ms")
    took = {(run_id, key): ms or 0 for run_id, key, ms in originals}
    saved = sum(took.get((row.reused_from, row.cache_key), 0) for row in reused)
    return {"nodes": len(reused), "saved_ms": saved}


def document_edges(document: dict) -> list[tuple[str, str]]:
    return [(edge["source"], edge["target"]) for edge in document.get("edges") or ()]


def parent_workflow(run: WorkflowRun) -> int | None:
    if run.parent_run_id is None:
        return None
    return WorkflowRun.objects.values_list("workflow_id", flat=True).get(pk=run.parent_run_id)


def child_runs(*, run: WorkflowRun) -> list[dict[str, Any]]:
    """The sub-workflow runs this run started, oldest first."""
    rows = run.child_runs.order_by("pk").values(
        "id", "workflow_id", "parent_node", "parent_iteration", "parent_attempt", "status"
    )
    return [
        {
            "id": row["id"],
            "workflow": row["workflow_id"],
            "node": row["parent_node"],
            "iteration": row["parent_iteration"] or None,
            "attempt": row["parent_attempt"],
            "status": row["status"],
        }
        for row in rows
    ]


def run_is_stalled(run: WorkflowRun) -> bool:
    """A running run whose worker saw no event for the stall time while nodes were running."""
    return run.status == "running" and run.stalled_at is not None


def node_output(*, run: WorkflowRun, node_id: str, iteration: str = "", attempt: int | None = None):
    """The whole stored output of a node's attempt (the latest one when `attempt` is None)."""
    rows = NodeRun.objects.filter(run=run, node_id=node_id, iteration=iteration)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    return rows.order_by("-attempt").values("attempt", "status", "output").first()


def top_level_nodes(document: dict, node_runs: list[NodeRun]) -> dict[str, dict]:
    """Every document node that is not in a container body: its latest attempt, else pending."""
    attempts = group_attempts(run for run in node_runs if not run.iteration)
    nodes = {}
    for node in document.get("nodes", []):
        if node.get("parent"):
            continue
        found = attempts.get(node["id"])
        nodes[node["id"]] = (
            translate.node_report(found) if found else translate.pending_node_report()
        )
    return nodes


def iterations(node_runs: list[NodeRun]) -> dict[str, list[dict]]:
    """Body node reports per container, one object per iteration in order.

    An iteration path is `<container>[<index>]`, nested ones joined with `/`
    (`outer[1]/inner[0]`); the key is the path without its last index (`outer[1]/inner`).
    """
    by_iteration: dict[str, dict[int, list[NodeRun]]] = {}
    for node_run in node_runs:
        if not node_run.iteration:
            continue
        container, index = split_iteration(node_run.iteration)
        by_iteration.setdefault(container, {}).setdefault(index, []).append(node_run)
    result = {}
    for container, by_index in by_iteration.items():
        size = max(by_index) + 1
        result[container] = [
            {
                node_id: translate.node_report(attempts)
                for node_id, attempts in group_attempts(by_index.get(i, [])).items()
            }
            for i in range(size)
        ]
    return result


def split_iteration(path: str) -> tuple[str, int]:
    head, _, index = path.rpartition("[")
    try:
        return head, int(index.rstrip("]"))
    except ValueError:
        return path, 0


def group_attempts(node_runs) -> dict[str, list[NodeRun]]:
    grouped: dict[str, list[NodeRun]] = {}
    for node_run in node_runs:
        grouped.setdefault(node_run.node_id, []).append(node_run)
    for attempts in grouped.values():
        attempts.sort(key=lambda node_run: node_run.attempt)
    return grouped


def usage_totals(usages: Iterable[dict]) -> dict[str, Any]:
    """Token totals of node attempts' `usage`, and their cost in USD when SWITCHYARD_LLM_PRICES
    prices every model they used (else `cost_usd` is null)."""
    prices = conf.value("LLM_PRICES") or {}
    prompt = completion = 0
    cost: float | None = 0.0
    estimated = False
    for usage in usages:
        estimated = estimated or bool(usage.get("estimated"))
        p, c = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        prompt, completion = prompt + p, completion + c
        price = prices.get(usage.get("model")) if isinstance(prices, dict) else None
        if cost is not None and isinstance(price, dict):
            cost += (
                p * float(price.get("prompt", 0)) + c * float(price.get("completion", 0))
            ) / 1e6
        elif p or c:
            cost = None
    totals = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": None if cost is None or not prices else round(cost, 6),
    }
    if estimated:  # some call's tokens were counted locally: the provider reported none
        totals["estimated"] = True
    return totals


def priced(body: dict[str, Any]) -> dict[str, Any]:
    """A node attempt's body with its tokens' cost (`usage.cost_usd`, null when
    SWITCHYARD_LLM_PRICES does not price its model): what the inspector shows."""
    if body.get("usage"):
        body["usage"] = {**body["usage"], "cost_usd": usage_totals([body["usage"]])["cost_usd"]}
    return body


def run_usages(run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`usage_totals` of each of these runs (one query for a page of the run list)."""
    found: dict[int, list[dict]] = {run_id: [] for run_id in run_ids}
    rows = NodeRun.objects.filter(run_id__in=run_ids, usage__isnull=False)
    for run_id, usage in rows.values_list("run_id", "usage"):
        found[run_id].append(usage)
    return {run_id: usage_totals(usages) for run_id, usages in found.items()}


# --- recovery workflows (a node's `on_failure.run`) --------------------------------------------


def recovery_workflow(*, user, reference: Any) -> tuple[Workflow | None, str | None]:
    """The workflow a node's `on_failure.run` names (an id, or a name among the workflows the
    user may see), or why none: (None, the reason)."""
    if isinstance(reference, str) and reference.strip().isdigit():
        reference = int(reference)
    candidates = Workflow.objects.filter(visible(user)).only("pk", "name", "inputs")
    if isinstance(reference, int) and not isinstance(reference, bool):
        found = list(candidates.filter(pk=reference)) if user.pk else []
    elif isinstance(reference, str) and user.pk:
        found = list(candidates.filter(name=reference).order_by("pk")[:5])
    else:
        return None, f"must be a workflow id or name, got {reference!r}"
    if not found:
        return None, f"no workflow {reference!r} that {user.get_username()} may run"
    if len(found) > 1:
        ids = ", ".join(str(workflow.pk) for workflow in found)
        return None, f"{len(found)} workflows are named {reference!r} ({ids}): use the id"
    return found[0], None


def recovery_problems(*, user, document: dict) -> list[dict]:
    """`unknown_workflow` for each node whose `on_failure.run` names no workflow the owner may
    run, or one that does not declare the input `failure` (what the recovery run is given)."""
    found = []
    for node in document.get("nodes") or ():
        on_failure = node.get("on_failure") if isinstance(node, dict) else None
        if not isinstance(on_failure, dict) or on_failure.get("run") in (None, ""):
            continue
        workflow, reason = recovery_workflow(user=user, reference=on_failure["run"])
        if workflow is not None and "failure" not in (workflow.inputs or {}):
            reason = f"workflow {workflow.pk} ({workflow.name}) declares no input `failure`"
        if reason is not None:
            message = f"node {node.get('id')}: on_failure.run: {reason}"
            found.append(
                problem("unknown_workflow", message, node=node.get("id"), field="on_failure.run")
            )
    return found
