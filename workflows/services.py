"""Business actions on workflows and runs: keyword-only, typed, one transaction each.

Saving a document: it is loaded with the engine's defaults, its shape checked (unknown fields,
wrong types), then validated by the engine. Problems that the rows cannot hold refuse the whole
document with a 400 and every problem found: duplicate node or edge ids, edges whose source or
target is not a node, empty ids or ids and names longer than their columns. Every other problem
(cycle, unknown type, bad config, bad reference, an id off the `^[a-z][a-z0-9_]{0,63}$`
pattern, a missing parent, ...) is saved with the draft (`valid: false`, `errors`): it can be
fixed on the canvas, but the workflow cannot run until it is. The graph is saved by diffing node
and edge ids against the rows: only rows that changed are written, in a constant number of
queries whatever the size of the graph.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from engine import DocumentError, all_problems, load_document
from engine.limits import MAX_EDGES, MAX_NODES
from engine.validation.check import problems_in_parts
from engine.validation.shape import input_value_ok
from workflows import dispatch, parsing, run_insert, triggers, versions
from workflows import documents as translate
from workflows import selectors as select
from workflows.errors import DocumentRejected, NotRunnable, StaleRevision, problem
from workflows.models import RunMode, RunTrigger, Workflow, WorkflowEdge, WorkflowNode, WorkflowRun

MAX_LENGTHS = {"id": 64, "name": 200, "type": 64, "join": 64, "parent": 64}
MAX_EDGE_LENGTHS = {"id": 128, "source_handle": 64, "target_handle": 64}
HEADER_FIELDS = translate.HEADER_FIELDS
NODE_COLUMNS = translate.NODE_COLUMNS
NODE_UPDATE_FIELDS = [name for name in NODE_COLUMNS if name != "node_id"]
EDGE_COLUMNS = (*translate.EDGE_COLUMNS, "source_id", "target_id")
EDGE_UPDATE_FIELDS = [name for name in EDGE_COLUMNS if name != "edge_id"]


# --- documents ---------------------------------------------------------------------------------


def document_prepare(source: str | bytes | dict, *, owner, format: str | None = None) -> tuple:
    """The defaults-applied document and its problems (saved with a draft), with the owner's
    (`on_failure.run` naming no workflow they may run); DocumentRejected when the rows cannot
    hold it at all."""
    document, problems, unstorable = document_problems(source, format=format)
    if unstorable:
        raise DocumentRejected(problems)
    return document, problems + select.recovery_problems(user=owner, document=document)


def document_check(source: str | bytes | dict, *, format: str | None = None) -> tuple[dict, list]:
    """Load and validate a document; raise DocumentRejected only for shape problems."""
    document, problems, _ = document_problems(source, format=format)
    return document, problems


def document_problems(source: str | bytes | dict, *, format: str | None) -> tuple[dict, list, list]:
    """The document, all its problems, and those of them the rows cannot hold."""
    try:
        if isinstance(source, str | bytes | bytearray):
            source = parsing.document_loads(source, format=format)
        else:
            parsing.check_value(source)
    except parsing.BadInput as exc:
        raise DocumentRejected(exc.errors) from None
    if isinstance(source, dict):
        source = {k: v for k, v in source.items() if k not in translate.READ_ONLY_FIELDS}
        early = translate.edge_id_problems(source)
        if early:
            raise DocumentRejected(early)
    try:
        document = load_document(source, format=format)
    except DocumentError as exc:
        raise DocumentRejected([found.to_dict() for found in exc.errors])
    document = {k: v for k, v in document.items() if k not in translate.READ_ONLY_FIELDS}
    too_large = size_problems(document)
    if too_large:
        raise DocumentRejected(too_large)
    # One pass names every problem: the shape's (which refuse the document) come first.
    shaped, rest = problems_in_parts(document)
    problems = [found.to_dict() for found in shaped + rest]
    if shaped:
        raise DocumentRejected(problems)
    unstorable = storage_problems(document)
    return document, merged(problems, unstorable), unstorable


def document_valid(problems: list[dict]) -> bool:
    return not any(found.get("severity", "error") == "error" for found in problems)


def size_problems(document: dict) -> list[dict]:
    """A graph past the documented maximum is refused before anything walks it."""
    found = []
    for key, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        if isinstance(document[key], list) and len(document[key]) > limit:
            message = f"{key}: at most {limit:,} per workflow, got {len(document[key]):,}"
            found.append(problem("too_large", message, field=key))
    return found


def storage_problems(document: dict) -> list[dict]:
    """What the rows cannot hold, checked here too so the database never sees it."""
    found = []
    node_ids: set[str] = set()
    for node in document["nodes"]:
        node_id = node["id"]
        if node_id in node_ids:
            message = f"node id {node_id!r} is used more than once"
            found.append(problem("duplicate_id", message, node=node_id))
        node_ids.add(node_id)
        if not node_id:
            found.append(problem("bad_id", "a node id must not be empty", field="id"))
        found.extend(too_long(node, MAX_LENGTHS, node=node_id))
    edge_ids: set[str] = set()
    for edge in document["edges"]:
        edge_id = edge["id"]
        if edge_id in edge_ids:
            message = f"edge id {edge_id!r} is used more than once"
            found.append(problem("duplicate_id", message, edge=edge_id))
        edge_ids.add(edge_id)
        found.extend(too_long(edge, MAX_EDGE_LENGTHS, edge=edge_id))
        for end in ("source", "target"):
            if edge[end] not in node_ids:
                message = f"edge {edge_id!r}: {end} {edge[end]!r} is not a node of this workflow"
                found.append(problem("missing_node", message, edge=edge_id, field=end))
    if len(document["name"]) > 200:
        found.append(problem("too_long", "name: at most 200 characters", field="name"))
    return found


def too_long(item: dict, limits: dict[str, int], **where: str) -> list[dict]:
    return [
        problem("too_long", f"{field}: at most {limit} characters", field=field, **where)
        for field, limit in limits.items()
        if isinstance(item.get(field), str) and len(item[field]) > limit
    ]


def merged(problems: list[dict], extra: list[dict]) -> list[dict]:
    """The engine's problems plus ours that it did not already report."""
    seen = {(p["code"], p.get("node"), p.get("edge")) for p in problems}
    return problems + [p for p in extra if (p["code"], p.get("node"), p.get("edge")) not in seen]


def header_values(document: dict) -> dict[str, Any]:
    return {**{name: document[name] for name in HEADER_FIELDS}, "metadata": metadata_of(document)}


def metadata_of(document: dict) -> dict:
    """The document's `metadata` (author, signature, …): {} when it has none."""
    return document.get("metadata") or {}


# --- workflows ---------------------------------------------------------------------------------


@transaction.atomic
def workflow_create(*, owner, source: str | bytes | dict, format: str | None = None) -> Workflow:
    """Store a new workflow (a draft when it has validation problems)."""
    document, problems = document_prepare(source, owner=owner, format=format)
    workflow = Workflow.objects.create(
        owner=owner, **header_values(document), valid=document_valid(problems), errors=problems
    )
    graph_save(workflow=workflow, document=document)
    versions.version_record(workflow=workflow, document=document, user=owner)
    triggers.triggers_rearm(workflow=workflow, document=document)
    return workflow


def workflow_import(*, owner, source: str | bytes | dict, format: str | None = None) -> Workflow:
    """Store a workflow from JSON or YAML text (or a parsed document)."""
    return workflow_create(owner=owner, source=source, format=format)


@transaction.atomic
def workflow_save(*, user, workflow_id: int, source: dict) -> Workflow:
    """Replace a workflow's whole document; `source["revision"]` must be the current one."""
    revision = source.get("revision") if isinstance(source, dict) else None
    if not isinstance(revision, int) or isinstance(revision, bool):
        message = "revision: required, the revision of the workflow you edited (an integer)"
        raise DocumentRejected([problem("missing_field", message, field="revision")])
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    if revision != workflow.revision:
        raise StaleRevision(sent=revision, current=workflow.revision)
    document, problems = document_prepare(source, owner=workflow.owner)
    graph_save(workflow=workflow, document=document)
    header_save(workflow=workflow, document=document, problems=problems, user=user)
    triggers.triggers_rearm(workflow=workflow, document=document)
    return workflow


PATCHABLE_FIELDS = ("name", "description", "tags", "settings", "variables", "inputs")


@transaction.atomic
def workflow_patch(*, user, workflow_id: int, changes: dict[str, Any]) -> Workflow:
    """Change metadata (name, description, tags, settings, variables, inputs) and revalidate.

    The changed document is checked exactly as PUT checks a whole one: the same shape rules,
    the same error body."""
    revision = changes.get("revision")
    changes = {k: v for k, v in changes.items() if k not in translate.READ_ONLY_FIELDS}
    patch_problems(changes, revision)
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    if revision is not None and revision != workflow.revision:
        raise StaleRevision(sent=revision, current=workflow.revision)
    current = select.workflow_document(workflow=workflow)
    document, problems = document_prepare({**current, **changes}, owner=workflow.owner)
    header_save(workflow=workflow, document=document, problems=problems, user=user)
    workflow.document = document
    triggers.triggers_rearm(workflow=workflow, document=document)
    return workflow


def patch_problems(changes: dict[str, Any], revision: Any) -> None:
    """Refuse fields a PATCH cannot change and a revision that is not an integer."""
    found = [
        problem(
            "unknown_field",
            f"{name}: unknown field: PATCH changes only metadata (PUT replaces the graph)",
            field=name,
        )
        for name in sorted(set(changes) - set(PATCHABLE_FIELDS))
    ]
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        message = f"revision: must be an integer, got {translate.json_type(revision)}"
        found.append(problem("bad_type", message, field="revision"))
    if found:
        raise DocumentRejected(found)


@transaction.atomic
def workflow_share(*, user, workflow_id: int, names: list[str]) -> Workflow:
    """Share the workflow with exactly these users (the owner only; every unknown name is
    reported and nothing changes)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True)
    wanted = sorted(set(names) - {user.get_username()})
    users = list(get_user_model().objects.filter(username__in=wanted))
    missing = sorted(set(wanted) - {found.get_username() for found in users})
    if missing:
        raise DocumentRejected(
            [
                problem("unknown_user", f"shared_with: no user named {name!r}", field="shared_with")
                for name in missing
            ]
        )
    workflow.shared_with.set(users)
    return workflow


@transaction.atomic
def workflow_delete(*, user, workflow_id: int) -> None:
    select.workflow_get(user=user, workflow_id=workflow_id, for_update=True, change=True).delete()


def workflow_validate(*, user, workflow_id: int, source: dict | None = None) -> list[dict]:
    """The problems of a posted document, or of the saved one when nothing is posted."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id)
    if source is None:
        source = select.workflow_document(workflow=workflow)
    try:
        document, problems = document_check(source)
        return problems + select.recovery_problems(user=workflow.owner, document=document)
    except DocumentRejected as exc:
        return exc.errors


def header_save(*, workflow: Workflow, document: dict, problems: list[dict], user) -> None:
    for name, value in header_values(document).items():
        setattr(workflow, name, value)
    workflow.valid = document_valid(problems)
    workflow.errors = problems
    workflow.revision += 1
    workflow.save(
        update_fields=[*HEADER_FIELDS, "metadata", "valid", "errors", "revision", "updated_at"]
    )
    versions.version_record(workflow=workflow, document=document, user=user)


def graph_save(*, workflow: Workflow, document: dict) -> None:
    """Make the node and edge rows match the document, writing only what changed."""
    nodes = nodes_save(workflow=workflow, nodes=document["nodes"])
    edges_save(workflow=workflow, edges=document["edges"], node_pks=nodes["pks"])
    # No edge points at a removed node any more: a plain DELETE (no cascade walk) is enough.
    rows_delete(WorkflowNode, nodes["removed"])


def nodes_save(*, workflow: Workflow, nodes: list[dict]) -> dict[str, Any]:
    """Create and update node rows; return node id -> pk and the pks of rows to remove (they
    are removed after the edges, so an edge moved off a removed node survives)."""
    rows = WorkflowNode.objects.filter(workflow=workflow).values_list("pk", *NODE_COLUMNS)
    existing = {row[1]: row for row in rows}
    pks, created, changed = {}, [], []
    for order, node in enumerate(nodes):
        columns = translate.node_columns(node, order)
        row = existing.pop(node["id"], None)
        if row is None:
            created.append(WorkflowNode(workflow=workflow, **columns))
            continue
        pks[node["id"]] = row[0]
        if row[1:] != tuple(columns[name] for name in NODE_COLUMNS):
            changed.append((row[0], columns))
    WorkflowNode.objects.bulk_create(created)
    rows_update(WorkflowNode, changed, NODE_UPDATE_FIELDS)
    pks.update((row.node_id, row.pk) for row in created)
    return {"pks": pks, "removed": [row[0] for row in existing.values()]}


def edges_save(*, workflow: Workflow, edges: list[dict], node_pks: dict[str, int]) -> None:
    rows = WorkflowEdge.objects.filter(workflow=workflow).values_list("pk", *EDGE_COLUMNS)
    existing = {row[1]: row for row in rows}
    created, changed = [], []
    for order, edge in enumerate(edges):
        columns = translate.edge_columns(edge, order)
        columns["source_id"] = node_pks[edge["source"]]
        columns["target_id"] = node_pks[edge["target"]]
        row = existing.pop(edge["id"], None)
        if row is None:
            created.append(WorkflowEdge(workflow=workflow, **columns))
        elif row[1:] != tuple(columns[name] for name in EDGE_COLUMNS):
            changed.append((row[0], columns))
    if existing:
        WorkflowEdge.objects.filter(pk__in=[row[0] for row in existing.values()]).delete()
    rows_update(WorkflowEdge, changed, EDGE_UPDATE_FIELDS)
    WorkflowEdge.objects.bulk_create(created)


def rows_update(model, rows: list[tuple[int, dict]], fields: list[str]) -> None:
    """Update rows (pk, values) in one statement: `UPDATE ... FROM (VALUES ...)` on PostgreSQL
    (Django's bulk_update builds a CASE per field and row, several times slower), bulk_update
    elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update([model(pk=pk, **values) for pk, values in rows], fields)
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    row_sql = "(%s::bigint, " + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    params: list[Any] = []
    for pk, values in rows:
        params.append(pk)
        params.extend(
            field.get_db_prep_save(values[name], connection)
            for name, field in zip(fields, columns, strict=True)
        )
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v(row_pk, {names}) "
        f"WHERE t.id = v.row_pk"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rows_delete(model, pks: list[int]) -> None:
    """Delete rows by pk without Django's cascade collection (the caller knows nothing
    references them any more)."""
    if pks:
        model.objects.filter(pk__in=pks)._raw_delete(connection.alias)


# --- runs --------------------------------------------------------------------------------------


def run_create(
    *,
    user,
    workflow_id: int,
    inputs: dict[str, Any] | None = None,
    mode: str = RunMode.NORMAL,
    from_node: str | None = None,
    trigger: str = RunTrigger.API,
    source_run: WorkflowRun | None = None,
    started_by: dict[str, Any] | None = None,
) -> WorkflowRun:
    """Record a queued run of the workflow's current document; announce it after commit.

    Refused (NotRunnable, 400) when the document has validation errors, when inputs are unknown
    or missing without a default, or when `from_node` is not a node of the workflow. A revision
    run here before is run in one statement (workflows/run_insert.py), with the same answers.
    """
    started_by = started_by or triggers.repeated_trigger(source_run)
    fields = {
        "mode": mode,
        "trigger": trigger,
        "created_by": user,
        "from_node": from_node or "",
        "source_run": source_run,
        **(started_by or {}),  # trigger_node, trigger_data, idempotency_key (webhooks)
    }
    run = run_insert_known(user=user, workflow_id=workflow_id, inputs=inputs, fields=fields)
    if run is None:
        run = run_insert_read(user=user, workflow_id=workflow_id, inputs=inputs, fields=fields)
    transaction.on_commit(partial(dispatch.run_queued, run.pk))
    return run


def run_insert_known(*, user, workflow_id: int, inputs: dict | None, fields: dict):
    """The run, in one statement, of a revision run here before that the user may still see
    (workflows/run_insert.py); None when it is not that simple."""
    known = run_insert.known(workflow_id)
    if known is None or user.pk is None:
        return None
    document = known.document
    try:
        resolved = run_inputs(declared=document["inputs"], given=inputs or {})
        check_from_node(document, fields["from_node"])
    except NotRunnable:
        return None  # refused by the reading path, once it knows the user may see the workflow
    run = WorkflowRun(
        workflow_id=workflow_id,
        document={"id": workflow_id, "revision": known.revision, **document},
        revision=known.revision,
        inputs=resolved,
        **fields,
    )
    return run if run_insert.insert_if_unchanged(run, known, user_id=user.pk) else None


@transaction.atomic
def run_insert_read(*, user, workflow_id: int, inputs: dict | None, fields: dict) -> WorkflowRun:
    """The run, from the workflow read with the user's access checked (404 if none)."""
    workflow = select.workflow_get(user=user, workflow_id=workflow_id)
    document, errors = runnable_document(workflow, workflow.revision, workflow.updated_at)
    if errors:
        raise NotRunnable(errors)
    resolved = run_inputs(declared=document["inputs"], given=inputs or {})
    check_from_node(document, fields["from_node"])
    run = WorkflowRun.objects.create(
        workflow=workflow,
        document={"id": workflow.pk, "revision": workflow.revision, **document},
        revision=workflow.revision,
        inputs=resolved,
        **fields,
    )
    run_insert.remember(workflow, document)
    return run


def check_from_node(document: dict, from_node: str) -> None:
    if from_node and from_node not in {node["id"] for node in document["nodes"]}:
        message = f"from_node: {from_node!r} is not a node of this workflow"
        raise NotRunnable([problem("unknown_node", message, node=from_node, field="from_node")])


@lru_cache(maxsize=256)
def runnable_document(workflow: Workflow, revision: int, updated_at: Any) -> tuple[dict, list]:
    """A saved revision's document and its validation errors, read and checked once per
    process: runs of an unchanged workflow skip both (every save moves the revision and
    `updated_at`, the key, so an edit is never missed). Callers must not change the result."""
    document = select.workflow_document(workflow=workflow)
    problems = [p.to_dict() for p in all_problems(document)]
    problems += select.recovery_problems(user=workflow.owner, document=document)
    return document, [p for p in problems if p.get("severity", "error") == "error"]


def run_inputs(*, declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The run's inputs: given values checked against the declarations, defaults filled in."""
    errors = [
        problem("unknown_input", f"inputs.{name}: the workflow declares no such input", field=name)
        for name in given
        if name not in declared
    ]
    resolved = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in given:
            resolved[name] = given[name]
            errors.extend(input_type_problems(name, spec, given[name]))
        elif "default" in spec:
            resolved[name] = spec["default"]
        elif spec.get("required", True):
            message = f"inputs.{name}: required (the input has no default)"
            errors.append(problem("missing_input", message, field=f"inputs.{name}"))
        else:
            resolved[name] = None
    if errors:
        raise NotRunnable(errors)
    return resolved


def input_type_problems(name: str, spec: dict, value: Any) -> list[dict]:
    if input_value_ok(spec.get("type"), value):
        return []
    message = f"inputs.{name}: must be of type {spec['type']}, got {translate.json_type(value)}"
    return [problem("bad_input", message, field=f"inputs.{name}")]
