"""Where a queued run is announced: the runtime registers its callbacks here.

`services.run_create` calls every callback in `on_run_queued` with the new run's id once the
transaction that created the run has committed, so a worker never looks for a row that is not
visible yet. The runtime appends its own (e.g. a channel-layer send to the worker).
"""

from collections.abc import Callable

on_run_queued: list[Callable[[int], None]] = []


def run_queued(run_id: int) -> None:
    """Announce a committed, queued run to every registered callback."""
    for callback in list(on_run_queued):
        callback(run_id)
