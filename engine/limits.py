"""The documented maximum of every number a workflow document sets (issue 13, SPEC §1).

A value past its maximum is refused by validation (`bad_config`, the field named) and, when a
template yields it at run time, fails its node with `bad_config` instead of reaching the clock
or an allocation: `1e300` seconds overflows a datetime, `1e9` attempts keep a worker busy.
Node types' `config_schema` read these constants, so the canvas and `/api/node-types/` show
them; the document's own schema (engine/schema/document.json) writes them out, and a test
(tests/engine/test_document_schema.py) keeps the two equal.
"""

from __future__ import annotations

DAY_S = 86_400

# One attempt of one node, and an http request (which also holds a worker while it runs).
MAX_NODE_TIMEOUT_S = 7 * DAY_S
MAX_HTTP_TIMEOUT_S = 600
# Waits that hold no worker (the run parks): an approval's timeout, the run's own timeout.
MAX_WAIT_S = 30 * DAY_S
# A `delay` node: longer than the durable threshold it parks the run.
MAX_DELAY_S = DAY_S

MAX_ATTEMPTS = 100
MAX_RETRY_DELAY_S = DAY_S  # `retry.delay_s` and `retry.max_delay_s`; also the longest backoff
MAX_RETRY_MULTIPLIER = 100  # an exponential backoff's base (past it the cap is reached at once)
MAX_RETRY_ON = 32  # error types a `retry.on` lists

# settings.max_parallel: past a graph's width it changes nothing (the engine's benchmarks run
# 5,000-node layers at full width); each of a map's items is a whole body, so fewer of those.
MAX_PARALLEL = 10_000
MAX_CONCURRENCY = 1000  # a map's max_concurrency
MAX_ITERATIONS = 100_000  # a loop's count and max_iterations

MAX_CACHE_TTL_S = 30 * DAY_S  # how old a reused result (node `cache.ttl_s`) may be
MAX_PINNED_BYTES = 1 << 20  # a node's pinned output as JSON (node `pinned.output`)
MAX_POSITION = 10_000_000  # canvas coordinates, either sign
MAX_WORKFLOW_ID = 2**63 - 1  # a sub-workflow's id (a PostgreSQL bigint)

# A document's size: the canvas, validation and every run hold the whole graph; the engine's
# benchmarks run 5,000 nodes, so twice that leaves room. Nodes added at run time (growth) have
# their own bound per run.
MAX_NODES = 10_000
MAX_EDGES = 50_000

# A node's declared `output_schema` (typed outputs): validation and every output check read it.
MAX_OUTPUT_SCHEMA_BYTES = 16_384  # as compact JSON
MAX_OUTPUT_SCHEMA_DEPTH = 16  # nested objects and arrays

# Sticky notes on the canvas (document `notes`): stored and shown, never executed.
MAX_NOTES = 200
MAX_NOTE_TEXT = 5000  # characters of one note
MAX_NOTE_SIZE = 4000  # a note's width or height on the canvas
