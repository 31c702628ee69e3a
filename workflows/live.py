"""Reads and names for live run streaming: the run's group and its persisted events."""

from workflows.models import RunEvent, WorkflowRun

LAYER = "live"  # the channel layer alias run events travel on (settings.CHANNEL_LAYERS)


def run_group(run_id: int) -> str:
    return f"run-{run_id}"


def run_visible_to(run_id: int, user) -> bool:
    from workflows.selectors import visible

    return WorkflowRun.objects.filter(visible(user, runs=True), pk=run_id).exists()


def event_body(run_id: int, seq: int, type_: str, payload: dict) -> dict:
    """The SPEC §5 JSON of a persisted event."""
    return {"seq": seq, "type": type_, "run": run_id, **payload}


def events_after(run_id: int, after: int, limit: int) -> list[dict]:
    rows = (
        RunEvent.objects.filter(run_id=run_id, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "type", "payload")[:limit]
    )
    return [event_body(run_id, seq, type_, payload) for seq, type_, payload in rows]
