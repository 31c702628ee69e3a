"""Websocket consumers: thin, one handler per message type.

`RunConsumer` streams a run's events (SPEC §5). It joins the run's group *before* reading the
persisted events, so an event produced while the replay is read arrives afterwards as a live
message; every event is forwarded only when its `seq` is exactly the next one the client needs.
A duplicate is dropped, and a gap (a live message the channel layer dropped, a slow client whose
channel filled up) is filled from PostgreSQL, where every event is durable before it is sent.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import QueryDict

from workflows import live, parsing

REPLAY_PAGE = 500


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON consumer that answers a malformed message with an error and stays open."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            await self.send_error("binary messages are not supported; send JSON text")
            return
        try:
            content = await self.decode_json(text_data)
        except parsing.BadInput as exc:
            await self.send_error(exc.errors[0]["message"], code=exc.errors[0]["code"])
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error('a message is a JSON object with a string "type"')
            return
        await self.receive_json(content, **kwargs)

    @classmethod
    async def decode_json(cls, text_data: str):
        """Strict JSON (workflows.parsing): a message nested 2,000 levels deep, NaN or a NUL
        character is answered with an error, not a closed socket."""
        return parsing.json_loads(text_data, what="the message")

    async def send_error(self, message: str, code: str = "bad_message") -> None:
        await self.send_json({"type": "error", "code": code, "message": message})


class HealthConsumer(JsonConsumer):
    """Echoes `{"type": "ping", ...}` back as `pong` through the channel layer.

    The round trip goes through a group on the configured channel layer, so a client that
    gets its pong has proven the layer (Redis in production) works.
    """

    async def connect(self) -> None:
        self.group = f"health-{self.channel_name.replace('!', '-')}"[:90]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if content.get("type") != "ping":
            await self.send_error('expected {"type": "ping"}')
            return
        await self.channel_layer.group_send(
            self.group, {"type": "health.pong", "data": content.get("data")}
        )

    async def health_pong(self, message: dict) -> None:
        await self.send_json({"type": "pong", "data": message.get("data")})


def parse_after(query_string: bytes) -> int | None:
    """`?after=` as a seq (ASCII digits, 0 to MAX_SEQ); None when it is not one."""
    params = QueryDict(query_string.decode("latin-1"))
    try:
        return parsing.int_param(params, "after", default=0, minimum=0, maximum=parsing.MAX_SEQ)
    except parsing.BadInput:
        return None


class RunConsumer(JsonConsumer):
    """`ws/runs/<run_id>/?after=<seq>`: replay persisted events after `seq`, then stream."""

    channel_layer_alias = live.LAYER
    run_id: int
    last_seq: int

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        self.group = None
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await database_sync_to_async(live.run_visible_to)(self.run_id, user):
            await self.close(code=4404)
            return
        after = parse_after(self.scope.get("query_string", b""))
        if after is None:
            await self.close(code=4400)
            return
        self.last_seq = after
        self.group = live.run_group(self.run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.catch_up()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def catch_up(self) -> None:
        """Send every persisted event after `last_seq`, page by page."""
        while True:
            events = await database_sync_to_async(live.events_after)(
                self.run_id, self.last_seq, REPLAY_PAGE
            )
            for event in events:
                await self.forward(event)
            if len(events) < REPLAY_PAGE:
                return

    async def forward(self, event: dict) -> None:
        if event["seq"] != self.last_seq + 1:
            return
        await self.send_json(event)
        self.last_seq = event["seq"]

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections in a worker thread before every handler:
        # a thread hop per live message, the largest cost on the streaming path. Live events
        # touch the database only to fill a gap, through database_sync_to_async, which closes
        # its own connections.
        if message["type"] == "run.events":
            await self.run_events(message)
        else:
            await super().dispatch(message)

    async def run_events(self, message: dict) -> None:
        """Live events from the runtime, sent after the transaction that wrote them."""
        for event in message["events"]:
            seq = event["seq"]
            if seq <= self.last_seq:
                continue
            if seq == self.last_seq + 1:
                await self.forward(event)
            else:
                await self.catch_up()

    async def receive_json(self, content, **kwargs) -> None:
        kind = content["type"]
        if kind == "ping":
            await self.send_json({"type": "pong", "seq": self.last_seq})
        elif kind == "resync":
            after = content.get("after")
            if (
                not isinstance(after, int)
                or isinstance(after, bool)
                or not 0 <= after <= parsing.MAX_SEQ
            ):
                await self.send_error(f'"after" must be an integer from 0 to {parsing.MAX_SEQ}')
                return
            self.last_seq = after
            await self.catch_up()
        else:
            await self.send_error(f"unknown message type {kind!r}; expected ping or resync")
