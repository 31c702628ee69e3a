"""Websocket consumers: thin, one handler per message type."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Echoes `{"type": "ping", ...}` back as `pong` through the channel layer.

    The round trip goes through a group on the configured channel layer, so a
    client that gets its pong has proven the layer (Redis in production) works.
    """

    async def connect(self) -> None:
        self.group = f"health-{self.channel_name.replace('!', '-')}"[:90]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_json({"type": "error", "message": 'expected {"type": "ping"}'})
            return
        await self.channel_layer.group_send(
            self.group, {"type": "health.pong", "data": content.get("data")}
        )

    async def health_pong(self, message: dict) -> None:
        await self.send_json({"type": "pong", "data": message.get("data")})

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "message": "message is not valid JSON"})
