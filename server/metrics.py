"""Prometheus metrics of one process, in a registry of its own so several apps can share a process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "chat_messages_posted_total", "Messages posted and acknowledged", registry=self.registry
        )
        self.commands = Counter("chat_commands_total", "Bot commands queued", registry=self.registry)
        self.connections = Gauge(
            "chat_socket_connections", "Socket.IO connections open on this node", registry=self.registry
        )
        self.errors = Counter(
            "chat_event_errors_total", "Events answered with an error", ["code"], registry=self.registry
        )
        self.requests = Histogram(
            "chat_http_request_seconds", "REST request latency", ["route", "status"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
