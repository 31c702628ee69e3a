from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from workflows import dispatch
        from workflows.runtime.worker import send_wakeup

        if send_wakeup not in dispatch.on_run_queued:
            dispatch.on_run_queued.append(send_wakeup)
