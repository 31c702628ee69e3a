"""`manage.py seed_demo`: the demo user and the demo workflows used by `make run`."""

import json
import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from workflows import services
from workflows.models import Workflow

DEMO_USERNAME = "demo"
DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Create the demo user and the demo workflows (idempotent)."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", "switchyard")
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        added = seed_workflows(user)
        self.stdout.write(f"Demo workflows: {added} added, {len(demo_files()) - added} present")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username '{DEMO_USERNAME}', password '{password}'"
                + ("" if created else " (existing user; password unchanged)")
            )
        )


def demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.json"))


@transaction.atomic
def seed_workflows(user) -> int:
    """Import each demo file the user has no workflow of the same name for; return the count."""
    names = set(Workflow.objects.filter(owner=user).values_list("name", flat=True))
    added = 0
    for path in demo_files():
        text = path.read_bytes()
        if json.loads(text).get("name") in names:
            continue
        workflow = services.workflow_import(owner=user, source=text, format="json")
        names.add(workflow.name)
        added += 1
    return added
