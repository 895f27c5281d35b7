"""The Quart app: ``create_app(container)``.

Routes follow ../shared/CONTRACT.md's HTTP table. Every request handler is a few lines:
verify, parse, dispatch to the core, reply.
"""

from __future__ import annotations

import html
import logging

from quart import Quart, Response

from core.errors import StorageUnavailable
from entrypoints.container import Container

log = logging.getLogger("rocket.http")


def create_app(container: Container) -> Quart:
    app = Quart("rocket")
    app.config["MAX_CONTENT_LENGTH"] = 512 * 1024
    config = container.config()

    @app.after_serving
    async def close_store() -> None:
        await container.shutdown_resources()

    @app.get("/")
    async def status_page() -> Response:
        rows = "".join(
            f"<li>{html.escape(name)}: {'configured' if on else 'not configured'}</li>"
            for name, on in config.integrations.items()
        )
        body = (
            "<!doctype html><title>Rocket</title><h1>Rocket is running</h1>"
            f"<p>Database: {html.escape(config.database.backend)}</p><h2>Integrations</h2><ul>{rows}</ul>"
        )
        return Response(body, 200, content_type="text/html; charset=utf-8")

    @app.get("/healthz")
    async def healthz() -> tuple[dict, int]:
        try:
            store = await container.store()
            await store.ping()
        except StorageUnavailable as e:
            return {"status": "unavailable", "database": str(e)}, 503
        except Exception:  # a store that cannot even open is unhealthy, not a crash
            log.exception("health check failed")
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    return app
