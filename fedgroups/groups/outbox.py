"""Publishing an activity: stored in the outbox and queued for delivery in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from fedgroups.federation.atomic import atomic
from fedgroups.federation.delivery import enqueue
from fedgroups.models import Actor, Group, OutboxActivity


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
) -> OutboxActivity:
    """Store `activity` and one delivery per distinct inbox, atomically (transactional outbox)."""
    async with atomic():
        stored = await OutboxActivity.create(
            ap_id=activity["id"],
            actor=actor,
            group=group,
            activity_type=activity["type"],
            object_ap_id=object_ap_id,
            is_public=is_public,
            payload=activity,
        )
        await enqueue(stored, list(recipients), new=True)
    return stored
