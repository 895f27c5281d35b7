"""The ASGI application Hypercorn workers load: ``entrypoints.asgi:app``."""

from __future__ import annotations

from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from entrypoints.logs import configure_logging

configure_logging()
app = create_app(make_container(load_config()))
