"""`manage.py serve`: Daphne serving the app and, unless --no-worker, an execution worker on
the same event loop (so it works with the in-process channel layer and nothing else running)."""

import asyncio

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management import call_command
from django.core.management.base import BaseCommand

from workflows.management.commands.seed_demo import DEMO_USERNAME

LISTEN_BACKLOG = 2048


class Command(BaseCommand):
    help = "Serve Switchyard over HTTP and websockets with Daphne (plus a worker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="do not run an execution worker in-process"
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="first migrate and add the demo user and workflows (what `make run` does)",
        )

    def handle(
        self, *args, host: str, port: int, no_worker: bool, demo: bool = False, **options
    ) -> None:
        from channels.routing import ProtocolTypeRouter
        from daphne import http_protocol
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server  # installs Twisted's asyncio reactor
        from twisted.internet import reactor

        from switchyard.asgi import application

        http_protocol.WebRequest = app_parsed_request(http_protocol.WebRequest)
        routes = dict(application.application_mapping)
        routes["http"] = ASGIStaticFilesHandler(routes["http"])
        if not no_worker:
            reactor.callWhenRunning(self.start_worker)
        if demo:  # in this process: one start-up instead of three
            call_command("migrate", interactive=False, verbosity=0)
            call_command("seed_demo", stdout=self.stdout)
        self.stdout.write(
            f"Switchyard listening on http://{host}:{port}/"
            + ("" if no_worker else " (with an execution worker)")
        )
        if demo:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Open http://{host}:{port}/ and log in as '{DEMO_USERNAME}' "
                    "(password: DEMO_PASSWORD, default 'switchyard'). Ctrl+C stops it."
                )
            )
        self.stdout.flush()
        # Twisted listens with a queue of 50 by default: a burst of connections beyond it is
        # reset before the admission gate can answer them 503.
        endpoints = [
            f"{endpoint}:backlog={LISTEN_BACKLOG}"
            for endpoint in build_endpoint_description_strings(host=host, port=port)
        ]
        Server(
            application=ProtocolTypeRouter(routes),
            endpoints=endpoints,
            signal_handlers=True,
        ).run()

    def start_worker(self) -> None:
        from workflows.runtime.worker import RunWorker

        self.worker = RunWorker()
        self.worker_task = asyncio.ensure_future(self.worker.serve())


def app_parsed_request(web_request: type) -> type:
    """Daphne's request, without Twisted's own parse of a multipart body (into `args`, which
    Daphne never reads): Twisted answers a malformed one with a bare 400, no Content-Type, no
    body, before the app could answer its JSON error."""

    class AppParsedRequest(web_request):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._parsePOSTFormSubmission = False

    return AppParsedRequest
