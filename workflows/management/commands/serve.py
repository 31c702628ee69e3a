"""`manage.py serve`: Daphne serving the app (and, later, an execution worker) in one process."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Switchyard over HTTP and websockets with Daphne."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="do not run an execution worker in-process"
        )

    def handle(self, *args, host: str, port: int, no_worker: bool, **options) -> None:
        from channels.routing import ProtocolTypeRouter
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from switchyard.asgi import application

        routes = dict(application.application_mapping)
        routes["http"] = ASGIStaticFilesHandler(routes["http"])
        app = ProtocolTypeRouter(routes)
        self.stdout.write(f"Switchyard listening on http://{host}:{port}/")
        Server(
            application=app,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
        ).run()
