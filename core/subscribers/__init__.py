"""Subscribers: what follows from a change, one class per consequence.

Each is registered on the bus for the event classes it cares about (``core.wiring``):

- ``DriveSync``: a team's Drive folder is shared with exactly its registered members' emails
  after its membership (or folder) changed;
- ``Promotion``: joining ``settings.admin_team`` / ``settings.leads_team`` raises the user;
- ``Notices``: what GitHub did (webhooks) is posted to ``settings.notification_channel``.

A new consequence is a new subscriber here and one line in ``core.wiring``; no handler changes.
"""

from core.subscribers.drive import DriveSync, sync_drive
from core.subscribers.notices import Notices
from core.subscribers.promotion import Promotion, promoted, promotion_for

__all__ = ["DriveSync", "Notices", "Promotion", "promoted", "promotion_for", "sync_drive"]
