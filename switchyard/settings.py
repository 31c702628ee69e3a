"""Django settings for Switchyard, configured from the environment.

Environment variables (all optional):
  DATABASE_URL   database to use; default: a SQLite file `db.sqlite3` in the project.
                 e.g. postgres://postgres@127.0.0.1:5432/switchyard (psycopg 3, pooled)
  REDIS_URL      channel layer; default: the in-process layer (single process only).
                 e.g. redis://127.0.0.1:6379/0
  SECRET_KEY     default: an insecure development key (set it in production)
  DEBUG          "1"/"true" to enable; default: on unless SECRET_KEY is set
  ALLOWED_HOSTS  comma-separated; default: localhost,127.0.0.1,[::1],testserver
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from workflows import conf as switchyard_conf

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def named_secrets(text: str, path: str) -> dict[str, str]:
    """Secrets from a JSON object (names to strings), given inline or in a file."""
    source = "SWITCHYARD_SECRETS"
    if path:
        source = f"SWITCHYARD_SECRETS_FILE ({path})"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(f"{source}: cannot read it: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        secrets = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{source} is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
        raise ImproperlyConfigured(f"{source} must be a JSON object of names to strings")
    return secrets


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-insecure-switchyard-key-change-me-in-production"
DEBUG = env_bool("DEBUG", default="SECRET_KEY" not in os.environ)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Before channels: our `runworker` (claims runs from PostgreSQL) replaces channels' own.
    "workflows",
    "channels",
]

MIDDLEWARE = [
    # Outermost: whatever goes wrong under /api/, the answer is the SPEC's JSON error body.
    "workflows.middleware.api_errors",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "switchyard.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "switchyard.asgi.application"
WSGI_APPLICATION = None


def database_config(url: str | None) -> dict:
    """Build the default database from DATABASE_URL (SQLite file when unset)."""
    if not url:
        # The quick start: the web app and the in-process worker write concurrently, so wait
        # for the lock instead of failing, take it up front, and let readers run beside writes.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request may run in a different thread: persistent
        # connections leak, a pool does not.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": int(os.environ.get("DATABASE_POOL_MAX", "20")),
            # No connection free within this: the API answers 503 + Retry-After rather than
            # leaving the client hanging (switchyard.asgi also admits only as many requests
            # at once as the pool can serve).
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "3")),
        }
    return config


DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"))}

# Every SWITCHYARD_* setting with a plain default, from workflows/conf.py's table (the names,
# types, defaults and meanings are declared there once); the computed ones follow.
_switchyard = switchyard_conf.from_environ(os.environ)
globals().update(_switchyard)
# Admission control (workflows/admission.py): HTTP requests inside Django at once — by default
# the pool's size less the connections an in-process worker uses (SWITCHYARD_DB_THREADS) — the
# rest wait in SWITCHYARD_REQUEST_QUEUE, or are answered 503 + Retry-After.
_pool = DATABASES["default"].get("OPTIONS", {}).get("pool") or {}
SWITCHYARD_MAX_CONCURRENT_REQUESTS = int(
    switchyard_conf.environ_text("MAX_CONCURRENT_REQUESTS")
    or max(1, _pool.get("max_size", 20) - _switchyard["SWITCHYARD_DB_THREADS"])
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Processes that share a prefix share channels and groups (a test session picks its own, so
# concurrent suites on one Redis never hear each other).
CHANNEL_PREFIX = _switchyard["SWITCHYARD_CHANNEL_PREFIX"]
if REDIS_URL:
    # redis-py reads time out after 5 s by default, exactly channels_redis's blocking-pop
    # time: give reads more room so idle receives don't error.
    REDIS_HOSTS = [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 3}]
    CHANNEL_LAYERS = {
        # Worker wake-ups and run control: queued channels (one worker takes each message).
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": REDIS_HOSTS,
                "capacity": 5000,
                "expiry": 30,
                "prefix": CHANNEL_PREFIX,
            },
        },
        # Live run events to websockets: Redis PUBLISH, one round trip per send and pushed to
        # the consumers, no polling. At most once, like every layer: clients fill gaps by seq
        # from PostgreSQL.
        "live": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": REDIS_HOSTS, "prefix": CHANNEL_PREFIX},
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "live": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }

# Expressions' `secrets` (SPEC §2): named values, never echoed into events or logs — a JSON
# object in SWITCHYARD_SECRETS, or in the file SWITCHYARD_SECRETS_FILE names.
SWITCHYARD_SECRETS = named_secrets(
    switchyard_conf.environ_text("SECRETS"), _switchyard["SWITCHYARD_SECRETS_FILE"]
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "workflows.api.auth.CachedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Bodies are checked as they are parsed: no NaN/Infinity, NUL, lone surrogate, integer
    # beyond 64 bits or nesting deeper than workflows.parsing.MAX_DEPTH (400 naming the path).
    # JSON only: the API takes no form bodies (the import endpoint adds multipart itself).
    "DEFAULT_PARSER_CLASSES": ["workflows.parsing.JSONParser"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchyard API",
    "DESCRIPTION": "Workflows, runs and node types of the Switchyard DAG engine. Every text "
    "(keys included) is refused (400) if it holds a NUL character or a lone surrogate, and "
    'every integer outside 64 bits; errors answer `{"errors": [...]}` (SPEC §6).',
    "VERSION": "1.0.0",
    # The SPEC error answers every operation can give, with their `errors` body.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workflows.api.openapi.document_errors",
        "workflows.api.openapi.bound_free_values",
        "workflows.api.openapi.document_links",
        "workflows.api.hooks.describe_hooks",  # /hooks/{token}/, served outside DRF
        "workflows.api.listen.describe_test_hooks",  # /hooks/{token}/test/, likewise
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# The API's error body ({"errors": [...]}) and its request size limit (413 above it).
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "workflows.errors.exception_handler"
DATA_UPLOAD_MAX_MEMORY_SIZE = _switchyard["SWITCHYARD_MAX_BODY_BYTES"]
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.IsAuthenticated"]
SPECTACULAR_SETTINGS["SERVE_AUTHENTICATION"] = [
    "workflows.api.auth.CachedTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
