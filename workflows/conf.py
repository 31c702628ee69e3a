"""Every SWITCHYARD_* setting, declared once: name, type, default and meaning.

switchyard/settings.py builds its SWITCHYARD_* values from this table (`from_environ`), so
this module imports nothing from Django at its top level. The code reads a setting through
`value("LEASE_S")`, which looks at `django.conf.settings` at call time: pytest-django's
`settings` fixture and a worker subprocess's environment both keep working.
"""

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "SWITCHYARD_"


def parse_bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Setting:
    name: str  # without the prefix: the Django setting and environment variable add it
    parse: Callable[[str], Any]  # environment text to value (and the type of the value)
    default: Any
    meaning: str
    # Set when settings.py computes the value itself; says how (the table holds no value).
    computed: str = ""

    @property
    def key(self) -> str:
        return PREFIX + self.name


TABLE: tuple[Setting, ...] = (
    # Channels (switchyard/settings.py)
    Setting("CHANNEL_PREFIX", str, "asgi", "Redis key prefix: processes sharing it share groups"),
    # Admission control (workflows/admission.py via switchyard/asgi.py)
    Setting(
        "MAX_CONCURRENT_REQUESTS",
        int,
        None,
        "HTTP requests served inside Django at once",
        computed="the pool's max size less SWITCHYARD_DB_THREADS, at least 1",
    ),
    Setting("REQUEST_QUEUE", int, 200, "requests more that may wait for a turn (then 503)"),
    Setting("REQUEST_QUEUE_S", float, 5.0, "how long a request may wait for a turn"),
    Setting("MAX_BODY_BYTES", int, 5 * 1024 * 1024, "largest API request body (413 above)"),
    # API authentication (workflows/api/auth.py)
    Setting("TOKEN_CACHE_S", float, 5.0, "how long a web process reuses a token it checked"),
    # Execution runtime (workflows/runtime/)
    Setting("LEASE_S", float, 15.0, "how long a silent worker keeps its runs"),
    Setting("SWEEP_S", float, 2.0, "how often each worker looks for lost runs"),
    Setting("SCHEDULE_POLL_S", float, 1.0, "how often each worker fires due schedules"),
    Setting("WEBHOOK_LISTEN_S", float, 120.0, "how long a webhook's test listener waits"),
    Setting("TEST_NODE_TIMEOUT_S", float, 60.0, "the longest a node tested on its own may run"),
    Setting("STALL_S", float, 60.0, "no event for this long while nodes run: stalled"),
    Setting("CANCEL_POLL_S", float, 0.25, "how often a worker reads its runs' cancel requests"),
    Setting("DURABLE_DELAY_S", float, 60.0, "a longer `delay` parks the run without a worker"),
    Setting("WORKER_MAX_RUNS", int, 50, "runs one worker executes at once"),
    Setting("WORKER_MAX_NODES", int, 256, "node handlers one worker executes at once"),
    Setting("DB_THREADS", int, 4, "threads (and connections) for a worker's database work"),
    Setting("MAX_SUBWORKFLOW_DEPTH", int, 5, "how deep sub-workflows may nest"),
    Setting("EVENT_PREVIEW_BYTES", int, 4096, "output preview size in events"),
    Setting("MAX_OUTPUT_BYTES", int, 16 << 20, "hard limit on one node's output"),
    Setting("HTTP_ALLOW_PRIVATE", parse_bool, False, "let http nodes call private addresses"),
    Setting("SYNCHRONOUS_EVENT_COMMIT", parse_bool, False, "wait for the WAL flush per batch"),
    # What expressions may read (SPEC §2)
    Setting("ENV_ALLOW", parse_list, [], "environment variables expressions may read"),
    Setting(
        "SECRETS",
        dict,
        {},
        "named secrets for secrets.NAME",
        computed="a JSON object of names to strings, inline or in SWITCHYARD_SECRETS_FILE",
    ),
    Setting("SECRETS_FILE", str, "", "a file holding SWITCHYARD_SECRETS' JSON object"),
    # Observability (workflows/observability/metrics.py)
    Setting("METRICS_TOKEN", str, "", "bearer token for GET /metrics (empty: staff sessions only)"),
    Setting(
        "SECRETS_KEY",
        parse_list,
        [],
        "Fernet keys (comma-separated; the first encrypts) for the secrets users store",
    ),
    # AI nodes (engine/handlers/llm.py)
    Setting(
        "LLM_PRICES",
        json.loads,
        {},
        'USD per million tokens by model: {"gpt-4o": {"prompt": 2.5, "completion": 10}}',
    ),
    # Retention (manage.py prune_runs)
    Setting("RUN_RETENTION_DAYS", int, 30, "finished runs older than this are pruned"),
)
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in TABLE}


def declared(name: str) -> Setting:
    """The declaration of NAME (with or without the prefix); KeyError names what is missing."""
    short = name.removeprefix(PREFIX)
    if short not in BY_NAME:
        raise KeyError(f"{PREFIX}{short} is not declared in workflows/conf.py")
    return BY_NAME[short]


def environ_text(name: str, environ: Mapping[str, str] = os.environ) -> str:
    """The environment's text for a setting; "" when unset (an empty variable means unset)."""
    return environ.get(declared(name).key, "")


def from_environ(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The Django settings (SWITCHYARD_X: value) of every setting with a plain default: the
    parsed environment variable when it is set, else the declared default. Computed ones are
    left to settings.py."""
    values = {}
    for setting in TABLE:
        if setting.computed:
            continue
        text = environ.get(setting.key, "")
        values[setting.key] = setting.parse(text) if text else _copy(setting.default)
    return values


def value(name: str) -> Any:
    """The setting's value now: django.conf.settings (so overrides apply), else its default."""
    from django.conf import settings

    setting = declared(name)
    current = getattr(settings, setting.key, None)
    if current is None:
        return _copy(setting.default)
    if setting.parse in (int, float) and not isinstance(current, bool):
        return setting.parse(current)
    return current


def _copy(default: Any) -> Any:
    return default.copy() if isinstance(default, list | dict) else default
