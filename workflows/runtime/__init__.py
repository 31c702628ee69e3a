"""The runtime: the one part of Switchyard that knows both the engine and Django.

It turns a `WorkflowRun` into an engine `Execution`, and the engine's events into rows and
channel-layer messages. Persistence comes before publication: events are written in batches
(`RunEvent` rows, `NodeRun` upserts, the run row) in one statement per group of runs, and only
once committed are they sent to the run's group. A node's completion is durable before its
successors start, so a worker that dies loses at most the attempts that were in flight; another
worker rebuilds the engine state from the rows and continues from there.

Where things are (each module imports only those listed before it):
- `db`: the runtime's database threads (`db`, `db_executor`), row/engine time conversions.
- `watches`: cancel requests and stall detection of the runs an event loop drives.
- `leases`: who holds a run (`nobody_holds`, claim, renew, keep, release), `LeaseLost`.
- `snapshots`: the engine state of a run rebuilt from its rows (takeover).
- `persistence`: `Batch`, the group write (`WRITE_SQL`, `EventWriter`).
- `child_runs`: the database side of sub-workflow runs; waking a parked parent.
- `unstorable`: a batch or run end PostgreSQL refuses, a run whose drive keeps breaking.
- `recorder`: `RunRecorder`, the engine's sink and store for one run.
- `publish`: `Publisher` (group commits, then live messages), `LiveSender`.
- `finish`: ending a drive (`finish_run`).
- `rerun`: the snapshot a partial re-run starts from.
- `loading`: the run a worker drives, read in one statement built once (`load_run`).
- `children`: a `subworkflow` node following its child run.
- `cache`: `RowCache`, where nodes with `cache` find earlier results (the rows).
- `drive`: one run from its rows to its end or next park (`drive`, `execute_leased`).
- `single`: testing one node alone (its upstream nodes from their pins or the last run).
- `hooks`: a webhook request's database side (token, rate limit, signature, its run).
- `schedules`: the scheduler step every worker runs (`fire_due`, `schedule_forever`).
- `worker`: `RunWorker`, the process that claims and drives runs; wake-up messages.
- `cli`: runs started from the command line.
"""
