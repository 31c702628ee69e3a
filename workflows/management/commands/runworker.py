"""`manage.py runworker workflow-runs`: a further execution worker process."""

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from workflows.runtime.worker import WORKER_CHANNEL, RunWorker


class Command(BaseCommand):
    help = "Run an execution worker that claims queued runs (needs REDIS_URL to share work)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("channels", nargs="*", default=[WORKER_CHANNEL])
        parser.add_argument("--max-runs", type=int, default=None)

    def handle(self, *args, channels: list[str], max_runs: int | None, **options) -> None:
        unknown = sorted(set(channels) - {WORKER_CHANNEL})
        if unknown:
            raise CommandError(
                f"unknown channel {', '.join(unknown)}: this worker serves {WORKER_CHANNEL}"
            )
        logging.getLogger("workflows").setLevel(logging.INFO)
        asyncio.run(self.serve(max_runs))

    async def serve(self, max_runs: int | None) -> None:
        worker = RunWorker(max_runs=max_runs)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        self.stdout.write(f"worker {worker.name} serving {WORKER_CHANNEL}")
        await worker.serve()
