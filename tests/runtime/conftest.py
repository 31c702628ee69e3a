"""Fixtures for the runtime: real PostgreSQL rows, the real channel layer, session cookies."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from workflows.models import Workflow, WorkflowRun

ORIGIN = (b"origin", b"http://localhost")


@sync_to_async
def session_headers(user) -> list[tuple[bytes, bytes]]:
    """Headers of a browser logged in as `user` (the real session middleware reads them)."""
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return [ORIGIN, (b"cookie", cookie)]


def logged_in(user) -> Client:
    """A Django test client with `user` logged in (session)."""
    client = Client()
    client.force_login(user)
    return client


def make_run(owner, document: dict | None = None, **fields) -> WorkflowRun:
    document = document or {"version": 1, "name": "w", "nodes": [], "edges": []}
    workflow = Workflow.objects.create(owner=owner, name=document.get("name", "w"), valid=True)
    return WorkflowRun.objects.create(
        workflow=workflow, document=document, revision=1, created_by=owner, **fields
    )


@pytest.fixture
def run_factory():
    return make_run
