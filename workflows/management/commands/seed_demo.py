"""`manage.py seed_demo`: the demo user (and demo workflows) used by `make run`."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"


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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username '{DEMO_USERNAME}', password '{password}'"
                + ("" if created else " (existing user; password unchanged)")
            )
        )
