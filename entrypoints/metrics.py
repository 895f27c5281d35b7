"""Prometheus metrics: command counts and latencies by command, webhook counts by event.

One registry per app, so several apps (tests, embedders) never collide. With several
Hypercorn workers each process counts its own requests (documented in the README).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "rocket_commands", "Slash commands handled", ["command", "outcome"], registry=self.registry
        )
        self.command_seconds = Histogram(
            "rocket_command_seconds", "Slash command latency", ["command"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.webhooks = Counter(
            "rocket_webhooks", "GitHub webhooks and Slack events handled", ["source", "event", "outcome"],
            registry=self.registry,
        )
        # The labelled children of a command, looked up once (``labels()`` validates and locks on
        # every call); bounded by the commands and outcomes there are.
        self._command_children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def command(self, name: str, outcome: str, seconds: float) -> None:
        """Count one ``name`` command with ``outcome`` ("ok", "refused") and its latency."""
        children = self._command_children.get((name, outcome))
        if children is None:
            children = (self.commands.labels(name, outcome), self.command_seconds.labels(name))
            self._command_children[(name, outcome)] = children
        children[0].inc()
        children[1].observe(seconds)

    def webhook(self, source: str, event: str, outcome: str) -> None:
        self.webhooks.labels(source, event, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
