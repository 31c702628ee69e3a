"""factory_boy factories and document builders shared by the test suite."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from workflows.models import NodeRun, RunEvent, Workflow, WorkflowRun


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-secret-123")


def chain_document(size: int, *, name: str = "chain", **top: Any) -> dict[str, Any]:
    """A valid document: `size` transform nodes n0 -> n1 -> ... in a line."""
    nodes = [
        {
            "id": f"n{i}",
            "type": "transform",
            "name": f"Step {i}",
            "config": {"output": i},
            "position": {"x": i * 10, "y": 0},
        }
        for i in range(size)
    ]
    edges = [{"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}"} for i in range(1, size)]
    return {"version": 1, "name": name, "nodes": nodes, "edges": edges, **top}


def workflow_for(owner, document: dict[str, Any] | None = None) -> Workflow:
    """A saved workflow of `owner` (through the service, as the API stores it)."""
    from workflows import services

    return services.workflow_create(owner=owner, source=document or chain_document(3))


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkflowRun

    workflow = None
    document = factory.LazyAttribute(lambda run: {"nodes": [], "edges": []})
    revision = 1
    created_by = factory.LazyAttribute(lambda run: run.workflow.owner)


class NodeRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NodeRun

    node_id = "n0"
    attempt = 1
    status = "succeeded"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class RunEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RunEvent

    seq = factory.Sequence(lambda n: n + 1)
    type = "node.status"
    payload = factory.LazyAttribute(lambda event: {"node": "n0", "status": "running"})
    at = factory.LazyFunction(timezone.now)
