"""Run endpoints (SPEC §6): start a run of a workflow, list runs, read one and its events."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from engine.states import RunState
from workflows import documents, services
from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ERRORS, ApiView, RunPage, int_query, json_body, text_query
from workflows.errors import SwitchyardError, problem
from workflows.models import RunTrigger
from workflows.parsing import MAX_ID, MAX_SEQ, int_param, text_param

RUN_STATES = tuple(state.value for state in RunState)
RUN_TRIGGERS = tuple(RunTrigger.values)


class WorkflowRunsView(ApiView):
    @extend_schema(request=s.RunCreateSerializer, responses={201: s.RunSerializer, **ERRORS})
    def post(self, request: Request, workflow_id: int) -> Response:
        body = s.RunCreateSerializer(data=json_body(request))
        body.is_valid(raise_exception=True)
        run = services.run_create(
            user=request.user,
            workflow_id=workflow_id,
            inputs=body.validated_data["inputs"],
            mode=body.validated_data["mode"],
            from_node=body.validated_data.get("from_node"),
            trigger=body.validated_data["trigger"],
        )
        report = select.run_report(run=run, just_created=True)
        return Response(report, status=status.HTTP_201_CREATED)


class RunListView(ApiView):
    @extend_schema(
        parameters=[
            int_query("workflow", 1, MAX_ID, "only runs of this workflow"),
            text_query(
                "status", 32, "only runs in this status (empty: any)", enum=["", *RUN_STATES]
            ),
            text_query(
                "trigger", 16, "only runs started so (empty: any)", enum=["", *RUN_TRIGGERS]
            ),
            int_query("page", 1, RunPage.max_page),
            int_query("page_size", 1, RunPage.max_page_size, f"default {RunPage.page_size}"),
        ],
        responses={200: s.RunPageSerializer, **ERRORS},
        operation_id="runs_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        workflow = int_param(params, "workflow", default=None, minimum=1, maximum=MAX_ID)
        status_ = text_param(params, "status", max_length=32)
        if status_ and status_ not in RUN_STATES:
            message = f"status: must be one of {', '.join(RUN_STATES)}, got {status_!r}"
            raise SwitchyardError([problem("bad_parameter", message, field="status")])
        trigger = text_param(params, "trigger", max_length=16)
        if trigger and trigger not in RUN_TRIGGERS:
            message = f"trigger: must be one of {', '.join(RUN_TRIGGERS)}, got {trigger!r}"
            raise SwitchyardError([problem("bad_parameter", message, field="trigger")])
        runs = select.run_list(
            user=request.user, workflow_id=workflow, status=status_, trigger=trigger
        )
        paginator = RunPage()
        page = paginator.paginate_queryset(runs, request, view=self)
        usages = select.run_usages([run.pk for run in page])
        return paginator.get_paginated_response([run_summary(run, usages) for run in page])


def run_summary(run, usages: dict[int, dict] | None = None) -> dict[str, Any]:
    return {
        "usage": (usages or {}).get(run.pk) or select.usage_totals(()),
        "id": run.pk,
        "workflow": run.workflow_id,
        "workflow_name": run.workflow.name,
        "revision": run.revision,
        "status": run.status,
        "mode": run.mode,
        "trigger": run.trigger,
        "parent_run": run.parent_run_id,
        "created_at": documents.iso(run.created_at),
        "started_at": documents.iso(run.started_at),
        "finished_at": documents.iso(run.finished_at),
    }


class RunDetailView(ApiView):
    @extend_schema(responses=s.RunSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        return Response(select.run_report(run=run))


class RunEventsView(ApiView):
    @extend_schema(
        parameters=[
            int_query("after", 0, MAX_SEQ, "only events with a larger seq"),
            int_query("limit", 1, select.EVENTS_LIMIT_MAX, "at most this many"),
        ],
        responses={200: s.RunEventsSerializer, **ERRORS},
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        params = request.query_params
        after = int_param(params, "after", default=0, minimum=0, maximum=MAX_SEQ)
        limit = int_param(
            params,
            "limit",
            default=select.EVENTS_LIMIT_MAX,
            minimum=1,
            maximum=select.EVENTS_LIMIT_MAX,
        )
        found = select.run_events(run=run, after=after, limit=limit)
        events = [documents.event_body(event) for event in found]
        last_seq = events[-1]["seq"] if events else after
        return Response({"events": events, "last_seq": last_seq})
