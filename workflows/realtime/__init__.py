"""Websockets (SPEC §5): the run stream and health consumers and their routes."""
