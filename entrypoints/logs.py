"""Logging for the long-running entry points: one line per record on stderr.

Rocket's own request lines are JSON objects (see entrypoints/handlers.py); ``ROCKET_LOG_LEVEL``
(default INFO) sets the level. Libraries stay at WARNING so their debug output, which can
include request headers, never reaches the log.
"""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    level = os.environ.get("ROCKET_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s", level=logging.WARNING)
    logging.getLogger("rocket").setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    # Hypercorn's lines ("Running on …") go through the same one handler, once: `rocket serve`
    # hands Hypercorn this logger, so Hypercorn adds no second handler of its own.
    logging.getLogger("hypercorn.error").setLevel(logging.INFO)
