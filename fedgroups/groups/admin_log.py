"""The admins' log: blocks, allows, mode switches and suspensions, with who did them and why.

Instance-level entries are moderation log entries with no group, written in the same
transaction as the change. Only admins read them (on the dashboard and with the CLI).
"""

from __future__ import annotations

from fedgroups.groups.modlog import Acting, LogLine, record
from fedgroups.models import Actor, ModerationAction, ModerationEntry

PAGE_SIZE = 50


async def record_admin_action(
    action: ModerationAction,
    by: Actor | None,
    *,
    target: str = "",
    subject: Actor | None = None,
    reason: str = "",
) -> None:
    """One line in the admins' log; `by` is None when the change came from the command line."""
    await record(None, action, Acting(by, reason=reason), subject=subject, object_ap_id=target)


async def admin_log(*, limit: int = PAGE_SIZE) -> list[LogLine]:
    """The newest instance-level entries first."""
    entries = (
        await ModerationEntry.filter(group_id=None)
        .order_by("-id")
        .limit(limit)
        .select_related("moderator", "subject")
    )
    return [
        LogLine(
            at=entry.created_at,
            action=entry.action,
            by=entry.moderator.handle if entry.moderator is not None else "an instance admin",
            subject=entry.subject.handle if entry.subject is not None else "",
            object_ap_id=entry.object_ap_id,
            reason=entry.reason,
        )
        for entry in entries
    ]
