"""The baseline: a Quart app on Hypercorn whose only work is checking the Slack signature.

``POST /slack/commands`` verifies ``X-Slack-Signature`` / ``X-Slack-Request-Timestamp`` with
slack-sdk's ``SignatureVerifier`` (401 when wrong) and answers a fixed ephemeral JSON reply;
``GET /healthz`` answers ``{"status": "ok"}``. Served like ``rocket serve`` (one process,
backlog 2048, no access log) by ``python -m bench.baseline --port P``; the secret comes
from ``BENCH_SLACK_SECRET``.
"""

from __future__ import annotations

import argparse
import json
import os

from quart import Quart, Response, request
from slack_sdk.signature import SignatureVerifier

DEFAULT_SECRET = "bench-slack-signing-secret"


def create_baseline_app(secret: str) -> Quart:
    """The baseline app for signing secret ``secret``."""
    app = Quart("baseline")
    verifier = SignatureVerifier(secret)

    @app.post("/slack/commands")
    async def commands() -> Response:
        body = await request.get_data(cache=False)
        if not verifier.is_valid_request(body, dict(request.headers)):
            return Response(json.dumps({"ok": False, "error": "bad signature"}), 401,
                            content_type="application/json")
        reply = {"response_type": "ephemeral", "text": "ok"}
        return Response(json.dumps(reply), 200, content_type="application/json")

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(json.dumps({"status": "ok"}), 200, content_type="application/json")

    return app


app = create_baseline_app(os.environ.get("BENCH_SLACK_SECRET", DEFAULT_SECRET))


def serve(prog: str, application_path: str) -> int:
    """Serve ``application_path`` on ``--host``/``--port`` the way ``rocket serve`` does (one
    process, backlog 2048, no access log): the bench's servers besides Rocket itself."""
    from hypercorn.config import Config
    from hypercorn.run import run

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.backlog = 2048
    config.application_path = application_path
    config.workers = 0
    config.accesslog = None
    config.errorlog = "-"
    return run(config)


def main() -> int:
    return serve("python -m bench.baseline", "bench.baseline:app")


if __name__ == "__main__":
    raise SystemExit(main())
