"""ASGI entry point: HTTP to Django, websockets to the Channels router."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard.settings")
django.setup(set_prefix=False)  # as get_asgi_application() does

from workflows.middleware import OneThreadASGIHandler  # noqa: E402

# Django's middleware chain and the (sync) views in one thread hop per request.
django_asgi_app = OneThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from workflows import conf  # noqa: E402
from workflows.admission import AdmissionGate  # noqa: E402
from workflows.api.hooks import HookRouter  # noqa: E402
from workflows.api.listen import TestHookRouter  # noqa: E402
from workflows.middleware import HookRequestLog, WebsocketTextGuard  # noqa: E402
from workflows.realtime.routing import channel_routes, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Overload answers 503 + Retry-After at the door instead of 500s inside (admission.py).
        # Webhooks (/hooks/<token>/) are served before it, all async: a sync webhook waiting
        # for its run holds no request slot and no thread (workflows/api/hooks.py).
        # A webhook's test URL (/hooks/<token>/test/) first (workflows/api/listen.py).
        "http": HookRequestLog(
            TestHookRouter(
                HookRouter(
                    AdmissionGate(
                        django_asgi_app,
                        limit=conf.value("MAX_CONCURRENT_REQUESTS"),
                        queue=conf.value("REQUEST_QUEUE"),
                        wait_s=conf.value("REQUEST_QUEUE_S"),
                    )
                )
            )
        ),
        "websocket": WebsocketTextGuard(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
        "channel": ChannelNameRouter(channel_routes),
    }
)
