"""`rotate_secrets`: re-encrypt every stored secret with the first SWITCHYARD_SECRETS_KEY.

Rotation: put the new key first in SWITCHYARD_SECRETS_KEY (keep the old one after it), run
this command, then drop the old key."""

from django.core.management.base import BaseCommand

from workflows.secrets import secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of SWITCHYARD_SECRETS_KEY."

    def handle(self, *args, **options) -> None:
        count = secrets_rotate()
        self.stdout.write(f"re-encrypted {count} secret{'s' if count != 1 else ''}")
