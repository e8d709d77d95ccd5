"""Publishing an activity: stored in the outbox and queued for delivery in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from fedgroups.federation.atomic import atomic
from fedgroups.federation.delivery import enqueue
from fedgroups.models import Actor, Group, OutboxActivity, Post
from fedgroups.models.write_behind import deferring


def new_activity_id(actor: Actor) -> str:
    return f"{actor.ap_id}/activities/{secrets.token_urlsafe(12)}"


async def publish(
    actor: Actor,
    activity: dict[str, Any],
    recipients: Iterable[Actor],
    *,
    group: Group | None = None,
    object_ap_id: str = "",
    is_public: bool = True,
    post: Post | None = None,
) -> OutboxActivity:
    """Store `activity` and one delivery per distinct inbox, atomically (transactional outbox).

    In an inbox batch of posts the rows wait for the batch's end (`models/write_behind.py`):
    the activity returned has its id only then. `post`: the stored post this announces, whose
    activity is dropped with it should the post turn out to be a copy the group already holds.
    """
    columns: dict[str, Any] = {
        "ap_id": activity["id"],
        "actor": actor,
        "group": group,
        "activity_type": activity["type"],
        "object_ap_id": object_ap_id,
        "is_public": is_public,
        "payload": activity,
    }
    buffer = deferring()
    if buffer is not None:
        waiting = OutboxActivity(**columns)
        buffer.add_activity(waiting, post)
        # The same list for each post of a batch: enqueue works out its inboxes once.
        audience = recipients if isinstance(recipients, list) else list(recipients)
        await enqueue(waiting, audience, new=True)
        return waiting
    async with atomic():
        stored = await OutboxActivity.create(**columns)
        await enqueue(stored, list(recipients), new=True)
    return stored
