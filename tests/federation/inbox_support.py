"""Running received activities through the real dispatch table and handlers, as the worker does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fedgroups.federation.context import Federation
from fedgroups.federation.dispatch import make_inbox_processor
from fedgroups.models import InboxItem


async def process(federation: Federation, activity: dict[str, Any]) -> None:
    """Store `activity` as the inbox would (already verified), then process it."""
    item = await InboxItem.create(
        activity_ap_id=activity["id"],
        activity_type=activity["type"],
        actor_ap_id=activity["actor"],
        signer_key_id=f"{activity['actor']}#main-key",
        body=activity,
        run_at=datetime.now(UTC),
    )
    await make_inbox_processor(federation)(item)
