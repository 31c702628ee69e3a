"""Workflows as the canvas edits them (one row per node and edge) and the record of their runs.

A `Workflow` holds the document's top-level fields; `WorkflowNode` and `WorkflowEdge` hold one row
per node and edge, with an `order` column so a document reads back in the order it was written
(export round-trips losslessly). Saving goes through `workflows.services`, which guarantees that an
edge references nodes of its own workflow and that a stale `revision` is refused.

What cannot be stored as rows is refused (400) rather than saved as a draft: duplicate node or
edge ids, edges whose source or target is not a node of the workflow, empty ids, values longer
than their columns. Every other validation problem (cycle, unknown type, bad config, bad
reference, an id off the SPEC pattern, ...) is saved with the draft: `valid` is false and
`errors` lists the problems; such a workflow cannot run. (`workflows.services` has the details.)

Runs store the exact document they executed (`WorkflowRun.document`), so editing a workflow never
changes the history. Choices come from the engine's state enums: one source of truth.
"""

from functools import cached_property

from django.conf import settings
from django.db import models

from engine.states import NodeState, RunState


def enum_choices(enum) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


USER_MODEL = settings.AUTH_USER_MODEL  # (inside Workflow, `settings` is a field)
# Runs not ended: what a worker may claim once nobody holds it (runtime/leases.py).
CLAIMABLE_STATES = (RunState.QUEUED.value, RunState.RUNNING.value, RunState.PAUSED.value)


class Workflow(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    # The canvas's sticky notes (document `notes`): shown and saved, never executed.
    notes = models.JSONField(default=list, blank=True)
    # Facts the engine does not read (author, signature): a dagger-style import keeps them.
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    revision = models.PositiveIntegerField(default=1)
    valid = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)
    shared_with = models.ManyToManyField(
        USER_MODEL,
        related_name="shared_workflows",
        blank=True,
        help_text="Users who may see and run it and its runs (only the owner changes it).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Its webhook and schedule nodes start runs only while it is active (workflows/triggers.py).
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="workflow_owner_updated")]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class WorkflowVersion(models.Model):
    """One saved revision of a workflow: its whole document as saved, who saved it and when.
    Written in the transaction of each save (workflows/versions.py); the newest
    `versions.VERSIONS_KEPT` of a workflow are kept."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    revision = models.PositiveIntegerField()
    document = models.JSONField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    saved_at = models.DateTimeField()

    class Meta:
        ordering = ["workflow", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "revision"], name="version_revision_unique")
        ]

    def __str__(self) -> str:
        return f"revision {self.revision} of workflow {self.workflow_id}"


class WorkflowNode(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=64)
    order = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    retry = models.JSONField(null=True, blank=True)
    timeout_s = models.FloatField(null=True, blank=True)
    join = models.CharField(max_length=64, blank=True, default="")
    parent = models.CharField(max_length=64, blank=True, default="")
    position_x = models.FloatField(default=0)
    position_y = models.FloatField(default=0)
    disabled = models.BooleanField(default=False)
    breakpoint = models.BooleanField(default=False)
    # Document fields this schema has no column for (future format additions) stay lossless.
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["workflow", "order"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "node_id"], name="unique_node_id")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.type})"


class WorkflowEdge(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="edges")
    edge_id = models.CharField(max_length=128)
    order = models.PositiveIntegerField(default=0)
    source = models.ForeignKey(WorkflowNode, on_delete=models.CASCADE, related_name="out_edges")
    source_handle = models.CharField(max_length=64, default="out")
    target = models.ForeignKey(WorkflowNode, on_delete=models.CASCADE, related_name="in_edges")
    target_handle = models.CharField(max_length=64, default="in")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["workflow", "order"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "edge_id"], name="unique_edge_id")
        ]

    def __str__(self) -> str:
        return f"{self.edge_id}: {self.source.node_id} -> {self.target.node_id}"


class RunMode(models.TextChoices):
    NORMAL = "normal"
    DRY_RUN = "dry_run"
    DEBUG = "debug"


class RunTrigger(models.TextChoices):
    MANUAL = "manual"  # the canvas
    API = "api"
    CLI = "cli"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"
    RERUN = "rerun"
    SUBWORKFLOW = "subworkflow"


class WorkflowRun(models.Model):
    # Indexes cost every write of a run, and a run's row is written four times or more: an index
    # whose leading columns another one has (workflow, status) is left out, and none holds the
    # lease, so a claim and a lease renewal change no indexed column and PostgreSQL updates the
    # row in place (a HOT update, room for which migration 0016 keeps free in each page).
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    document = models.JSONField(help_text="The exact document this run executed.")
    revision = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=enum_choices(RunState), default=RunState.QUEUED.value
    )
    mode = models.CharField(max_length=16, choices=RunMode.choices, default=RunMode.NORMAL)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.API)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(null=True, blank=True, help_text="The engine's snapshot.")
    last_event_at = models.DateTimeField(null=True, blank=True)
    stalled_at = models.DateTimeField(null=True, blank=True)
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="child_runs"
    )
    parent_node = models.CharField(max_length=64, blank=True, default="")
    # Which execution of `parent_node` started this run (a sub-workflow node in a loop or map
    # body runs once per iteration, and a retried node once per attempt): a worker taking the
    # parent over finds the child its lost attempt started instead of starting another.
    parent_iteration = models.CharField(max_length=255, blank=True, default="")
    parent_attempt = models.PositiveIntegerField(default=0)
    source_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    from_node = models.CharField(max_length=64, blank=True, default="")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    pause_request = models.JSONField(
        null=True,
        blank=True,
        help_text="A pause asked for while the run ran ({by, at}), until a resume.",
    )
    live_decisions = models.JSONField(
        null=True,
        blank=True,
        help_text="Approvals decided while the run ran, until its worker applies them.",
    )
    wake_at = models.DateTimeField(
        null=True, blank=True, help_text="A paused run resumes by itself then (durable delay)."
    )
    # The webhook or schedule node that started it and what it received (its output).
    trigger_node = models.CharField(max_length=64, blank=True, default="")
    trigger_data = models.JSONField(null=True, blank=True)
    # A webhook's Idempotency-Key: one run per key per workflow (unique_run_idempotency_key).
    idempotency_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workflow", "-created_at"], name="run_workflow_created"),
            models.Index(fields=["status", "-created_at"], name="run_status_created"),
            # The runs a worker may claim, oldest first (leases.claim_runs): only the active
            # ones, so a claim reads a few entries however many finished runs there are.
            models.Index(
                fields=["created_at", "id"],
                name="run_claimable",
                condition=models.Q(status__in=CLAIMABLE_STATES),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                name="unique_run_idempotency_key",
                condition=~models.Q(idempotency_key=""),
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of workflow {self.workflow_id}: {self.status}"

    @cached_property
    def ran_document(self) -> dict:
        """The document as the run ran it: its own (`document`, which a restore grows again
        from) plus the top-level nodes and edges dynamic growth added (`graph.changed`).
        Read once per instance (readers of a run ask for it many times)."""
        document = self.document or {}
        changes = self.events.filter(type="graph.changed").values_list("payload", flat=True)
        nodes, edges = list(document.get("nodes") or ()), list(document.get("edges") or ())
        grown = False
        for payload in changes.order_by("seq"):
            if payload.get("iteration") is None:
                nodes += payload.get("nodes") or []
                edges += payload.get("edges") or []
                grown = True
        return {**document, "nodes": nodes, "edges": edges} if grown else document


class NodeRun(models.Model):
    """One attempt of one node, in one iteration (`""` at top level, else e.g. `"each[2]"`)."""

    # No index of its own: unique_node_attempt leads with run, and a second index on every
    # insert costs PostgreSQL time per node for nothing.
    run = models.ForeignKey(
        WorkflowRun, on_delete=models.CASCADE, related_name="node_runs", db_index=False
    )
    node_id = models.CharField(max_length=64)
    iteration = models.CharField(max_length=255, blank=True, default="")
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=enum_choices(NodeState), default=NodeState.PENDING.value
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    handled = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    handles = models.JSONField(default=list, blank=True, help_text="Output handles chosen.")
    wait = models.JSONField(
        null=True, blank=True, help_text="While waiting: {kind, wake_at, data} (approval, delay)."
    )
    # A cached node's content hash (engine.caching), written with its success (or its reuse):
    # an attempt that never succeeded leaves none. `reused_from`: the run whose output a
    # `reused` attempt took (a plain id: pruning that run keeps this one's copy).
    cache_key = models.CharField(max_length=64, blank=True, default="")
    reused_from = models.BigIntegerField(null=True, blank=True)
    usage = models.JSONField(
        null=True, blank=True, help_text="Model tokens of this attempt: prompt, completion, model."
    )
    # What an llm node with memory said in this attempt, its messages and the answer
    # (engine.memory), redacted: a worker that takes the run over replays these.
    memory = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["run", "iteration", "node_id", "attempt"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "node_id", "iteration", "attempt"], name="unique_node_attempt"
            )
        ]
        indexes = [
            # the cache lookup: a key's successes, newest first; only rows that have a key
            models.Index(
                fields=["cache_key", "-finished_at"],
                name="noderun_cache_key",
                condition=~models.Q(cache_key=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id}#{self.attempt} {self.iteration}: {self.status}"


class RunEvent(models.Model):
    # No index of its own: unique_run_seq leads with run (see NodeRun.run).
    run = models.ForeignKey(
        WorkflowRun, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="unique_run_seq")]

    def __str__(self) -> str:
        return f"run {self.run_id} #{self.seq} {self.type}"


class TriggerType(models.TextChoices):
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"


class Trigger(models.Model):
    """A webhook or schedule node of a workflow, armed while the workflow is active. The row
    outlives deactivation and edits, so a webhook keeps its URL (token) per node id."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="triggers")
    node_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=TriggerType.choices)
    token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    config = models.JSONField(default=dict, blank=True)
    armed = models.BooleanField(default=False)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    last_fire_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workflow", "node_id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "node_id"], name="unique_trigger_node")
        ]
        indexes = [
            # What a scheduler step reads: armed schedules that are due.
            models.Index(
                fields=["next_fire_at"],
                name="trigger_due",
                condition=models.Q(armed=True, type="schedule"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.node_id} of workflow {self.workflow_id}"


class TriggerFire(models.Model):
    """One fire time of a schedule: unique per (trigger, scheduled_for), so however many
    workers race, a fire time starts at most one run."""

    class Outcome(models.TextChoices):
        STARTED = "started"
        SKIPPED = "skipped"  # overlap skip, or missed (misfire skip)
        QUEUED = "queued"  # overlap queue: starts when the previous run ends

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="fires")
    scheduled_for = models.DateTimeField()
    fired_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    run = models.ForeignKey(WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["trigger", "scheduled_for"]
        constraints = [
            models.UniqueConstraint(fields=["trigger", "scheduled_for"], name="unique_fire_time")
        ]

    def __str__(self) -> str:
        return f"{self.trigger} at {self.scheduled_for:%Y-%m-%d %H:%M:%S}: {self.outcome}"


class WebhookRate(models.Model):
    """Requests a workflow's webhooks took in the current minute (the per-workflow limit),
    counted in one upsert so every server process shares it."""

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, primary_key=True)
    window = models.BigIntegerField(default=0)  # minutes since the epoch
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"workflow {self.workflow_id}: {self.count} in minute {self.window}"


class Secret(models.Model):
    """A named secret of one user (an API key, a webhook signing key), encrypted at rest
    (`workflows.secrets`): the value is written, never read back through the API. The runs of
    the owner's workflows read it by name (`secrets.NAME`, an llm node's `api_key_secret`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="secrets"
    )
    name = models.CharField(max_length=64)
    ciphertext = models.TextField(help_text="Fernet token of the value (never shown).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_owner_secret")
        ]

    def __str__(self) -> str:
        return f"{self.name} (of {self.owner_id})"


class WebhookListen(models.Model):
    """A webhook node's one-shot test listener (the canvas's "listen for a test event"): the
    next request to `/hooks/<token>/test/` before `expires_at` is stored in `capture` and
    starts no run. One row per webhook; a new start replaces it, a cancel deletes it."""

    trigger = models.OneToOneField(
        Trigger, on_delete=models.CASCADE, primary_key=True, related_name="listen"
    )
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    captured_at = models.DateTimeField(null=True, blank=True)
    capture = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"test listener of trigger {self.trigger_id}"
