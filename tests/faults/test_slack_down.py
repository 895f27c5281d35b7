"""Slack failing while a GitHub webhook is processed (``SLACK_NOTIFICATION_CHANNEL`` is set):
the webhook is still applied (200, the directory changes); only the notice is dropped, with a
log line saying so."""

from __future__ import annotations

import json
import logging

from core.models import Team, User
from tests.faults.world import fault_world
from tests.support.fixtures import github_payload


def membership(action: str, login: str, github_id: int) -> dict:
    return {"action": action, "scope": "team", "team": {"id": 3253328, "slug": "github", "name": "github"},
            "member": {"login": login, "id": github_id}, "organization": {"login": "rocket-org"}}


def dropped_notices(caplog) -> list[dict]:
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "rocket.requests" and r.getMessage().startswith("{")]
    return [line for line in lines if line.get("kind") == "notice" and line.get("outcome") == "dropped"]


async def test_slack_down_while_webhooks_are_applied(tmp_path, github_env, github_standin, slack_standin,
                                                     caplog):
    caplog.set_level(logging.INFO)
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        await w.store.store(User("U7", github="octo7", github_user_id="707"))
        await w.store.store(User("U8", github="octo8", github_user_id="808"))
        assert (await (await w.webhook("team", github_payload("team.created"))).get_json())["applied"]
        assert len(w.slack.channel_texts("rocket-notices")) == 1 and dropped_notices(caplog) == []

        # Slack answers chat.postMessage with an error.
        w.slack.fail_next("chat.postMessage", "internal_error")
        response = await w.webhook("membership", membership("added", "octo7", 707))
        assert response.status_code == 200 and (await response.get_json())["applied"] is True
        assert (await w.store.retrieve(Team, "3253328")).members == {"707"}
        [notice] = dropped_notices(caplog)
        assert "internal_error" in notice["error"]
        assert len(w.slack.channel_texts("rocket-notices")) == 1  # nothing posted

        # Slack is not there at all (connection refused, after the client's bounded retries).
        w.slack.stop()
        response = await w.webhook("membership", membership("added", "octo8", 808))
        assert response.status_code == 200 and (await response.get_json())["applied"] is True
        assert (await w.store.retrieve(Team, "3253328")).members == {"707", "808"}
        assert len(dropped_notices(caplog)) == 2
        response = await w.webhook("membership", membership("removed", "octo7", 707))
        assert response.status_code == 200 and (await response.get_json())["applied"] is True
        assert (await w.store.retrieve(Team, "3253328")).members == {"808"}
        assert len(dropped_notices(caplog)) == 3
        assert await w.healthz() == 200
