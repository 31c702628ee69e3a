"""The admin of what runs workflows without anyone pressing Run: webhook and schedule triggers
(their fires) and users' stored secrets (names only). Registered with the rest of the admin
(workflows/admin/__init__.py imports this module)."""

from django.contrib import admin

from workflows.models import Secret, Trigger, TriggerFire, WebhookListen


class TriggerFireInline(admin.TabularInline):
    model = TriggerFire
    fields = ("scheduled_for", "fired_at", "outcome", "reason", "run")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-scheduled_for",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("run")


class WebhookListenInline(admin.StackedInline):
    """A webhook's "listen for a test event" listener and what it captured (read-only)."""

    model = WebhookListen
    fields = ("started_at", "expires_at", "captured_at", "capture")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    """Webhook and schedule triggers (SPEC §8) with their last and next fire; activation
    itself is the workflow's (the API, the canvas), so rows are read-only here."""

    list_display = ("id", "workflow", "node_id", "type", "armed", "last_fire_at", "next_fire_at")
    list_filter = ("type", "armed")
    search_fields = ("workflow__name", "node_id")
    readonly_fields = (
        "workflow",
        "node_id",
        "type",
        "config",
        "armed",
        "last_fire_at",
        "next_fire_at",
        "created_at",
    )
    exclude = ("token",)  # the webhook's credential
    inlines = [WebhookListenInline, TriggerFireInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    """Names and dates only: a stored value is never shown (nor its ciphertext); values are
    written through the API (`/api/secrets/`), deleting one is allowed here."""

    list_display = ("name", "owner", "updated_at")
    search_fields = ("name", "owner__username")
    fields = ("owner", "name", "value", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="value")
    def value(self, secret: Secret) -> str:
        return "••••"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
