"""Run control endpoints (SPEC §6, §8): cancel, pause, resume, approve or retry a waiting node,
re-run.

Thin views over `workflows.control`; errors leave through the SPEC error body.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from workflows import control, services
from workflows import selectors as select
from workflows.api import serializers as s
from workflows.api.base import ApiView, int_query, json_body, text_query
from workflows.errors import SwitchyardError, problem
from workflows.models import RunTrigger
from workflows.parsing import MAX_SEQ, int_param, text_param


class RetrySerializer(s.StrictSerializer):
    config = serializers.DictField(
        required=False, allow_null=True, help_text="retry with this config (the run's copy)"
    )
    action = serializers.ChoiceField(choices=["retry", "skip"], default="retry")
    iteration = serializers.CharField(
        required=False, allow_blank=True, help_text="for a node inside a loop or map body: M[2]"
    )
    save = serializers.BooleanField(
        default=False, help_text="also save the edited config into the workflow"
    )


class ApproveSerializer(s.StrictSerializer):
    approved = serializers.BooleanField()
    data = serializers.JSONField(required=False, allow_null=True)
    iteration = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="where the node waits inside a loop or map body, e.g. M[2] (needed only "
        "when it waits in several iterations)",
    )


class RerunSerializer(s.StrictSerializer):
    from_node = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    inputs = serializers.DictField(required=False)


# The run report after the action; 409 when it does not fit the run's state (RunConflict).
RUN_CONTROLLED = {200: s.RunSerializer, 409: s.ErrorBodySerializer}


def strict(serializer_class, data: Any) -> dict:
    if not isinstance(data, dict):
        raise SwitchyardError([problem("bad_body", "the body must be a JSON object")])
    unknown = sorted(set(data) - set(serializer_class().fields))
    if unknown:
        raise SwitchyardError(
            [problem("unknown_field", f"{name}: unknown field", field=name) for name in unknown]
        )
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def resume_arguments(request: Request, body: dict) -> dict[str, Any]:
    return {
        "action": body["action"],
        "config": body.get("config"),
        "save": body["save"],
        "iteration": body.get("iteration"),
        "by": request.user.get_username(),
        "user": request.user,
    }


class RunCancelView(ApiView):
    @extend_schema(request=None, responses=RUN_CONTROLLED)
    def post(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        control.run_cancel(run=run)
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class RunPauseView(ApiView):
    @extend_schema(
        request=None,
        responses=RUN_CONTROLLED,
        description="Pause a running run on demand: its running nodes finish, nothing new "
        "starts, and the run parks `paused` (within about a second; the run read says "
        "`running` until then). `POST …/resume/` continues it. 409 `run_state` when the run "
        "is not running, or a pause is already asked for.",
    )
    def post(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        control.run_pause(run=run, by=request.user.get_username())
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class RunResumeView(ApiView):
    @extend_schema(request=RetrySerializer, responses=RUN_CONTROLLED)
    def post(self, request: Request, run_id: int) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        body = strict(RetrySerializer, json_body(request) or {})
        control.run_resume(run=run, **resume_arguments(request, body))
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class NodeApproveView(ApiView):
    @extend_schema(request=ApproveSerializer, responses=RUN_CONTROLLED)
    def post(self, request: Request, run_id: int, node_id: str) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        body = strict(ApproveSerializer, json_body(request) or {})
        control.run_approve(
            run=run,
            node_id=node_id,
            approved=body["approved"],
            data=body.get("data"),
            by=request.user.get_username(),
            iteration=body.get("iteration"),
        )
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class NodeRetryView(ApiView):
    @extend_schema(request=RetrySerializer, responses=RUN_CONTROLLED)
    def post(self, request: Request, run_id: int, node_id: str) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        body = strict(RetrySerializer, json_body(request) or {})
        control.run_resume(run=run, node_id=node_id, **resume_arguments(request, body))
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class ConfigSerializer(s.StrictSerializer):
    config = serializers.DictField(help_text="the node's new config (the run's copy only)")


class NodeConfigView(ApiView):
    @extend_schema(
        request=ConfigSerializer,
        responses={**RUN_CONTROLLED, 400: s.ErrorBodySerializer},
        description="While the run is paused, replace the config of a top-level node that "
        "has not started (pending, or queued by a pause on demand): the run's copy of the "
        "document changes and lists the edit (who, when) under `edits`; the node runs with it "
        "when the run goes on. 409 `run_state` when the run is not paused, `node_state` when "
        "the node has started; 400 with every problem when the edited document is invalid.",
    )
    def post(self, request: Request, run_id: int, node_id: str) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        body = strict(ConfigSerializer, json_body(request) or {})
        control.run_pending_config(
            run=run, node_id=node_id, config=body["config"], by=request.user.get_username()
        )
        return Response(select.run_report(run=select.run_get(user=request.user, run_id=run_id)))


class NotRecorded(SwitchyardError):
    status_code = 404


class NodeOutputView(ApiView):
    """The whole output of a node (events carry only a truncated preview)."""

    @extend_schema(
        parameters=[
            text_query("iteration", 200, "inside a loop or map body, e.g. M[2]"),
            int_query("attempt", 1, MAX_SEQ, "this attempt (default: the latest)"),
        ],
        responses=s.NodeOutputSerializer,
    )
    def get(self, request: Request, run_id: int, node_id: str) -> Response:
        run = select.run_get(user=request.user, run_id=run_id)
        params = request.query_params
        found = select.node_output(
            run=run,
            node_id=node_id,
            iteration=text_param(params, "iteration", default=""),
            attempt=int_param(params, "attempt", default=None, minimum=1, maximum=MAX_SEQ),
        )
        if found is None:
            raise NotRecorded(
                [problem("not_found", f"node {node_id} has no recorded attempt in run {run_id}")]
            )
        return Response({"node": node_id, **found})


class RunRerunView(ApiView):
    @extend_schema(
        request=RerunSerializer, responses={201: s.RunSerializer, 400: s.ErrorBodySerializer}
    )
    def post(self, request: Request, run_id: int) -> Response:
        source = select.run_get(user=request.user, run_id=run_id)
        body = strict(RerunSerializer, json_body(request) or {})
        run = services.run_create(
            user=request.user,
            workflow_id=source.workflow_id,
            inputs=body.get("inputs", source.inputs),
            mode=source.mode,
            from_node=body.get("from_node") or None,
            trigger=RunTrigger.RERUN,
            source_run=source,
        )
        return Response(select.run_report(run=run), status=201)
