"""``rocket serve`` without the audit trail, for the audit-cost rounds of the bench only.

The same app as ``entrypoints.asgi`` (same container, Bolt app, store and Hypercorn settings
as ``rocket serve``) with the container's audit log overridden by ``None``, so ``build_bus``
registers no ``AuditTrail``. Served by ``python -m bench.unaudited --port P``; never a
production entry point (an unaudited Rocket is what issue 14 forbids).
"""

from __future__ import annotations

import argparse
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
    from hypercorn.config import Config
    from hypercorn.run import run

    parser = argparse.ArgumentParser(prog="python -m bench.unaudited")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.backlog = 2048
    config.application_path = "bench.unaudited:app"
    config.workers = 0
    config.accesslog = None
    config.errorlog = "-"
    return run(config)


if __name__ == "__main__":
    raise SystemExit(main())
