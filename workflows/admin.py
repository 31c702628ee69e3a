"""Admin: workflows with their nodes and edges, runs with their node attempts."""

from django.contrib import admin

from workflows.models import NodeRun, RunEvent, Workflow, WorkflowEdge, WorkflowNode, WorkflowRun


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
    list_display = ("id", "name", "owner", "revision", "valid", "updated_at")
    list_filter = ("valid",)
    search_fields = ("name", "description", "owner__username")
    readonly_fields = ("revision", "valid", "errors", "created_at", "updated_at")
    inlines = [WorkflowNodeInline, WorkflowEdgeInline]


class NodeRunInline(admin.TabularInline):
    model = NodeRun
    extra = 0
    fields = (
        "node_id",
        "iteration",
        "attempt",
        "status",
        "started_at",
        "finished_at",
        "duration_ms",
        "handled",
        "error",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin):
    list_display = ("id", "workflow", "status", "mode", "trigger", "created_at", "finished_at")
    list_filter = ("status", "mode", "trigger")
    search_fields = ("workflow__name",)
    list_select_related = ("workflow",)
    raw_id_fields = ("workflow", "created_by", "parent_run", "source_run")
    inlines = [NodeRunInline]


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "at")
    list_filter = ("type",)
    raw_id_fields = ("run",)
