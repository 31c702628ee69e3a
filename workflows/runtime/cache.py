"""Where cached nodes find earlier results (engine.caching's `NodeCache`): the node rows of
the same workflow's runs. A success's key is written with its row (runtime/recorder.py), in
the commit that makes the success durable, so a lookup never finds a result that was not."""

from __future__ import annotations

from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone

from engine.caching import CacheHit
from engine.states import NodeState
from workflows.models import NodeRun
from workflows.runtime.db import db
from workflows.runtime.logs import runtime_logger

logger = runtime_logger(__name__)


class RowCache:
    """Earlier successes of cached nodes in runs of one workflow (a result never crosses to
    another workflow, whose owner may not see it)."""

    def __init__(self, workflow_id: int) -> None:
        self.workflow_id = workflow_id

    async def lookup(self, key: str, max_age_s: float) -> CacheHit | None:
        try:
            return await db(self.find, key, max_age_s)
        except DatabaseError:  # no reuse is never wrong: the node runs
            logger.warning("cache lookup failed; the node runs", exc_info=True)
            return None

    def find(self, key: str, max_age_s: float) -> CacheHit | None:
        since = timezone.now() - timedelta(seconds=max_age_s)
        row = (
            NodeRun.objects.filter(
                cache_key=key,
                status=NodeState.SUCCEEDED,
                finished_at__gte=since,
                run__workflow_id=self.workflow_id,
            )
            .order_by("-finished_at")
            .values_list("run_id", "output", "handles", "duration_ms")
            .first()
        )
        if row is None:
            return None
        run_id, output, handles, duration_ms = row
        return CacheHit(run_id, output, tuple(handles or ("out",)), duration_ms)
