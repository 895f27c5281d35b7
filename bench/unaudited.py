"""``rocket serve`` without the audit trail, for the audit-cost rounds of the bench only.

The same app as ``entrypoints.asgi`` (same container, Bolt app, store and Hypercorn settings
as ``rocket serve``) with the container's audit log overridden by ``None``, so ``build_bus``
registers no ``AuditTrail``. Served by ``python -m bench.unaudited --port P``; never a
production entry point (an unaudited Rocket is what issue 14 forbids).
"""

from __future__ import annotations

import gc

from dependency_injector import providers
from quart import Quart

from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from entrypoints.logs import configure_logging


def create_unaudited_app() -> Quart:
    """The Rocket app of this environment's configuration, minus the audit subscriber."""
    container = make_container(load_config())
    container.audit.override(providers.Object(None))
    return create_app(container)


configure_logging()
app = create_unaudited_app()
gc.collect()
gc.freeze()


def main() -> int:
    from bench.baseline import serve

    return serve("python -m bench.unaudited", "bench.unaudited:app")


if __name__ == "__main__":
    raise SystemExit(main())
