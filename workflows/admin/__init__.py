"""Admin: workflows with their nodes, edges and a picture of the DAG; the run history with
status badges, per-run node counts, filters, search, and a read-only run page (node attempts
with their reasons, the events, the DAG in the run's final colours, a link to the canvas)."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.contrib import admin, messages
from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal

from workflows import selectors
from workflows.documents import iso
from workflows.models import (
    NodeRun,
    RunEvent,
    Workflow,
    WorkflowEdge,
    WorkflowNode,
    WorkflowRun,
)
from workflows.observability import causes, diagrams, explain, timeline

EVENTS_SHOWN = 500
WORKFLOWS_MATCHED = 1000
DAG_STYLE = "overflow:auto;max-width:100%;border:1px solid #e2e8f0;padding:6px;background:#fff"


def badge(status: str) -> str:
    """A state as the canvas shows it: its SPEC §4 colour, never colour alone (the label)."""
    colour = diagrams.STATE_COLOURS.get(status, "#94a3b8")
    text = "#fff" if status in diagrams.DARK_STATES else "#0f172a"
    dashed = "border:1px dashed #64748b;" if status == "skipped" else ""
    return format_html(
        '<span class="run-status" data-status="{}" style="background:{};color:{};{}'
        'padding:1px 8px;border-radius:9px;white-space:nowrap">{}</span>',
        status,
        colour,
        text,
        dashed,
        status.replace("_", " "),
    )


def dag_picture(document: dict, statuses: dict | None = None) -> str:
    return format_html(
        '<div style="{}">{}</div>', DAG_STYLE, mark_safe(diagrams.svg(document, statuses))
    )


class WorkflowNodeInline(admin.TabularInline):
    model = WorkflowNode
    extra = 0
    fields = ("order", "node_id", "type", "name", "join", "parent", "disabled", "breakpoint")
    ordering = ("order",)
    show_change_link = False


class WorkflowEdgeInline(admin.TabularInline):
    model = WorkflowEdge
    extra = 0
    fields = ("order", "edge_id", "source", "source_handle", "target", "target_handle")
    ordering = ("order",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "target")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only nodes of the workflow being edited can be an edge's ends.
        workflow_id = request.resolver_match.kwargs.get("object_id")
        if db_field.name in ("source", "target") and workflow_id:
            kwargs["queryset"] = WorkflowNode.objects.filter(workflow_id=workflow_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "revision", "valid", "active", "updated_at")
    list_filter = ("valid", "active")
    search_fields = ("name", "description", "owner__username")
    readonly_fields = ("dag", "revision", "valid", "errors", "created_at", "updated_at")
    filter_horizontal = ("shared_with",)
    inlines = [WorkflowNodeInline, WorkflowEdgeInline]

    @admin.display(description="DAG")
    def dag(self, workflow: Workflow) -> str:
        if workflow.pk is None:
            return "-"
        return dag_picture(selectors.workflow_document(workflow=workflow))


class NodeRunInline(admin.TabularInline):
    model = NodeRun
    extra = 0
    fields = (
        "node_id",
        "iteration",
        "attempt",
        "state",
        "started_at",
        "finished_at",
        "duration",
        "handled",
        "error_text",
        "reason",
        "tokens",
    )
    readonly_fields = fields
    can_delete = False
    ordering = ("iteration", "started_at", "node_id", "attempt")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="status")
    def state(self, row: NodeRun) -> str:
        return badge(row.status)

    @admin.display(description="duration")
    def duration(self, row: NodeRun) -> str:
        if row.started_at and row.finished_at:
            return f"{timeline.ms_between(row.started_at, row.finished_at) / 1000:.2f} s"
        return "-"

    @admin.display(description="error")
    def error_text(self, row: NodeRun) -> str:
        if not row.error:
            return "-"
        return f"{row.error.get('type')}: {row.error.get('message')}"

    @admin.display(description="tokens (prompt + completion)")
    def tokens(self, row: NodeRun) -> str:
        return token_text(selectors.usage_totals([row.usage])) if row.usage else "-"


def node_rows(run: WorkflowRun) -> list[tuple]:
    """(node, iteration, status, usage) of every attempt of the run, by node and attempt: read
    once per page for the picture's colours and the token totals."""
    if not hasattr(run, "admin_node_rows"):
        rows = run.node_runs.order_by("node_id", "attempt")
        run.admin_node_rows = list(rows.values_list("node_id", "iteration", "status", "usage"))
    return run.admin_node_rows


def token_text(usage: dict) -> str:
    """`1,200 + 300 ($0.0018)`; `~` before a count made locally (the provider gave none)."""
    text = f"{usage['prompt_tokens']:,} + {usage['completion_tokens']:,}"
    if usage.get("estimated"):
        text = f"~{text}"
    return text if usage.get("cost_usd") is None else f"{text} (${usage['cost_usd']:.4f})"


def search_condition(word: str) -> Q:
    """A run whose id, workflow name or error message matches `word`."""
    named = Workflow.objects.filter(name__icontains=word).values_list("pk", flat=True)
    ids = list(named[: WORKFLOWS_MATCHED + 1])
    # A few workflows are a list the runs' workflow index can use; many, a subquery.
    workflows = ids if len(ids) <= WORKFLOWS_MATCHED else named
    condition = Q(workflow_id__in=workflows) | Q(error__message__icontains=word)
    number = word.lstrip("#")
    if number.isdigit() and int(number) < 2**63:
        condition |= Q(pk=int(number))
    return condition


def node_count(status: str) -> Coalesce:
    """Top-level nodes of a run in `status`, as a subquery evaluated only for the rows shown.
    A failed attempt that was retried (or lost with its worker) is not a failed node."""
    rows = NodeRun.objects.filter(run=OuterRef("pk"), iteration="", status=status)
    if status == "failed":
        rows = rows.exclude(reason__in=("retried", "worker lost; attempted again"))
    counted = rows.order_by().values("run").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def next_period(day: date, kind: str) -> date:
    """The first day of the year, month or day after the one starting on `day`."""
    if kind == "year":
        return day.replace(year=day.year + 1)
    if kind == "month":
        return day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)
    return day + timedelta(days=1)


def periods(first: datetime, last: datetime, kind: str) -> list[datetime]:
    """The start of every year, month or day from the one holding `first` to the end of
    `last`'s, in the current time zone: n periods as n + 1 edges."""
    day, end = timezone.localtime(first).date(), timezone.localtime(last).date()
    day = day.replace(month=1, day=1) if kind == "year" else day
    day = day.replace(day=1) if kind == "month" else day
    edges = [day]
    while edges[-1] <= end:
        edges.append(next_period(edges[-1], kind))
    return [timezone.make_aware(datetime.combine(edge, time.min)) for edge in edges]


class RunHistory(QuerySet):
    """The admin's runs. For the date hierarchy it asks, period by period, whether a run falls
    in it (one query of index probes on `created_at`) rather than truncating the date of every
    run: the list stays fast with 100,000 runs."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if field_name != "created_at" or kind not in ("year", "month", "day") or tzinfo:
            return super().datetimes(field_name, kind, order, tzinfo)
        runs = self.order_by()
        bounds = runs.aggregate(first=Min("created_at"), last=Max("created_at"))
        if bounds["first"] is None:
            return []
        edges = periods(bounds["first"], bounds["last"], kind)
        probes = {
            f"p{i}": Exists(runs.filter(created_at__gte=start, created_at__lt=end))
            for i, (start, end) in enumerate(pairwise(edges))
        }
        flags = WorkflowRun.objects.order_by().annotate(**probes).values_list(*probes)[:1]
        found = [edges[i] for i, flag in enumerate(next(iter(flags), ())) if flag]
        return found[::-1] if order == "DESC" else found


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "workflow",
        "status_badge",
        "trigger",
        "started_at",
        "duration",
        "succeeded",
        "failed",
        "skipped",
    )
    list_display_links = ("id",)
    list_filter = ("status", "trigger", "mode", "workflow", "created_at")
    search_fields = ("workflow__name", "error__message")
    date_hierarchy = "created_at"
    list_select_related = ("workflow",)
    show_full_result_count = False
    list_per_page = 50
    actions = ["cancel_runs", "rerun_runs"]
    inlines = [NodeRunInline]
    fieldsets = (
        (None, {"fields": ("overview", "canvas_link", "dag")}),
        (
            "Run",
            {
                "fields": (
                    "workflow",
                    "status_badge",
                    "mode",
                    "trigger",
                    "revision",
                    "created_by",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "run_error",
                    "root_causes",
                    "tokens",
                    "inputs",
                    "outputs",
                    "source_run",
                    "from_node",
                    "parent_run",
                    "parent_node",
                )
            },
        ),
        ("Events", {"fields": ("event_list",), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        runs = super().get_queryset(request).defer("document", "state", "inputs", "outputs")
        runs = RunHistory(model=WorkflowRun, query=runs.query, using=runs.db)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            runs = runs.annotate(
                n_succeeded=node_count("succeeded"),
                n_failed=node_count("failed"),
                n_skipped=node_count("skipped"),
            )
        return runs

    def get_object(self, request, object_id, from_field=None):
        run = super().get_object(request, object_id, from_field)
        if run is not None:  # the detail page shows the document and inputs: load them
            run.refresh_from_db(fields=["document", "state", "inputs", "outputs"])
        return run

    def get_search_results(self, request, queryset, search_term):
        """Each word matches a run's id, its workflow's name or its error message. Workflow
        names are looked up first, so every condition is on the runs table and can use its
        indexes (the error message has a trigram index on PostgreSQL)."""
        for word in smart_split(search_term):
            if word[0] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            queryset = queryset.filter(search_condition(word))
        return queryset, False

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    # ---- columns ------------------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_badge(self, run: WorkflowRun) -> str:
        return badge(run.status)

    @admin.display(description="duration")
    def duration(self, run: WorkflowRun) -> str:
        if not (run.started_at and run.finished_at):
            return "-"
        return f"{timeline.ms_between(run.started_at, run.finished_at) / 1000:.1f} s"

    @admin.display(description="✓")
    def succeeded(self, run: WorkflowRun) -> int:
        return run.n_succeeded

    @admin.display(description="✕")
    def failed(self, run: WorkflowRun) -> int:
        return run.n_failed

    @admin.display(description="↷")
    def skipped(self, run: WorkflowRun) -> int:
        return run.n_skipped

    # ---- the detail page ----------------------------------------------------------------

    @admin.display(description="summary")
    def overview(self, run: WorkflowRun) -> str:
        data = timeline.timeline(run)
        eff = data["efficiency"]
        summary = format_html(
            "{} · wall {} s · critical path {} ({} s) · parallel efficiency {}",
            badge(run.status),
            f"{data['wall_ms'] / 1000:.1f}",
            " → ".join(data["critical_path"]) or "-",
            f"{data['critical_path_ms'] / 1000:.1f}",
            "n/a" if eff is None else f"{round(eff * 100)}%",
        )
        if run.mode != "dry_run":
            return summary
        plan = explain.run_plan(run)
        return format_html(
            '{}<p class="dry-run-plan">Dry run: would run {}; side effects not performed: {}</p>',
            summary,
            ", ".join(plan["would_run"]) or "nothing",
            ", ".join(plan["placeholders"]) or "none",
        )

    @admin.display(description="tokens (prompt + completion)")
    def tokens(self, run: WorkflowRun) -> str:
        return token_text(selectors.usage_totals(u for _, _, _, u in node_rows(run) if u))

    @admin.display(description="canvas")
    def canvas_link(self, run: WorkflowRun) -> str:
        url = f"/workflows/{run.workflow_id}/runs/{run.pk}/"
        return format_html(
            '<a href="{}" target="_blank">Open run {} on the canvas</a>', url, run.pk
        )

    @admin.display(description="DAG in the run's final states")
    def dag(self, run: WorkflowRun) -> str:
        statuses = diagrams.statuses_from_rows(run.ran_document, node_rows(run))
        return dag_picture(run.ran_document, statuses)

    @admin.display(description="error")
    def run_error(self, run: WorkflowRun) -> str:
        if not run.error:
            return "-"
        return f"{run.error.get('type')}: {run.error.get('message')}"

    @admin.display(description="root causes")
    def root_causes(self, run: WorkflowRun) -> str:
        lines = [causes.cause_line(c) for c in selectors.run_root_causes(run=run)]
        if not lines:
            return "-"
        items = format_html_join("", '<li class="root-cause">{}</li>', ((line,) for line in lines))
        return format_html('<ul style="margin:0;padding-left:1.2em">{}</ul>', items)

    @admin.display(description="events")
    def event_list(self, run: WorkflowRun) -> str:
        events = list(RunEvent.objects.filter(run=run).order_by("seq")[:EVENTS_SHOWN])
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (event_row(event) for event in events),
        )
        more = RunEvent.objects.filter(run=run).count() - len(events)
        tail = format_html("<p>… and {} more</p>", more) if more > 0 else ""
        return format_html(
            '<table class="run-events"><thead><tr><th>seq</th><th>at</th><th>type</th>'
            "<th>node</th><th>status</th><th>detail</th></tr></thead><tbody>{}</tbody>"
            "</table>{}",
            rows,
            tail,
        )

    # ---- actions --------------------------------------------------------------------------

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request, queryset) -> None:
        from workflows import control

        done = 0
        for run in queryset.exclude(status__in=("succeeded", "failed", "cancelled")):
            try:
                control.run_cancel(run=run)
                done += 1
            except Exception as exc:  # one refusal must not hide the others' outcome
                self.message_user(request, f"run {run.pk}: {exc}", messages.WARNING)
        self.message_user(request, f"cancel requested for {done} run(s)")

    @admin.action(description="Re-run the selected runs")
    def rerun_runs(self, request, queryset) -> None:
        from workflows import services
        from workflows.models import RunTrigger

        created = []
        for run in queryset.select_related("workflow"):
            try:
                new = services.run_create(
                    user=run.workflow.owner,
                    workflow_id=run.workflow_id,
                    inputs=run.inputs,
                    mode=run.mode,
                    trigger=RunTrigger.RERUN,
                    source_run=run,
                )
                created.append(str(new.pk))
            except Exception as exc:
                self.message_user(request, f"run {run.pk}: {exc}", messages.WARNING)
        if created:
            self.message_user(request, f"queued re-run(s): {', '.join(created)}")


def event_row(event: RunEvent) -> tuple:
    payload = event.payload or {}
    detail = ""
    if payload.get("error"):
        detail = payload["error"].get("message", "")
    elif payload.get("attempt"):
        detail = f"attempt {payload['attempt']}"
    if payload.get("duration_ms") is not None:
        detail += f" ({payload['duration_ms']} ms)"
    return (
        event.seq,
        iso(event.at),
        event.type,
        payload.get("node") or "",
        payload.get("status") or "",
        detail.strip(),
    )


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "at")
    list_filter = ("type",)
    raw_id_fields = ("run",)


from workflows.admin import automation  # noqa: E402, F401  (triggers and secrets)
