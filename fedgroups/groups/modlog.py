"""The moderation log: every moderator's action and every rule's, with its reason, for members.

Written in the same transaction as the action it records. Read through `visibility`, so a
group's log is shown to its members, moderators and the instance admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedgroups.errors import NotFound
from fedgroups.groups import visibility
from fedgroups.models import Actor, Group, ModerationAction, ModerationEntry

PAGE_SIZE = 50
MAX_REASON = 1_000


@dataclass(frozen=True)
class Acting:
    """Who takes a moderation action: a moderator's actor, or None for an instance admin."""

    moderator: Actor | None = None
    reason: str = ""
    is_automatic: bool = False

    @property
    def cleaned_reason(self) -> str:
        return " ".join(self.reason.split())[:MAX_REASON]


ADMIN = Acting()


def signer_of(group: Group, acting: Acting) -> Actor:
    """Whose name a moderation activity goes out under: the local moderator who took it, else
    the group itself (FEP-1b12 has followers accept moderation from the group's own server)."""
    moderator = acting.moderator
    return moderator if moderator is not None and moderator.is_local else group.actor


async def record(
    group: Group | None,
    action: ModerationAction,
    acting: Acting,
    *,
    subject: Actor | None = None,
    object_ap_id: str = "",
) -> ModerationEntry:
    """Write one log entry (call it inside the action's transaction)."""
    return await ModerationEntry.create(
        group=group,
        action=action,
        moderator=acting.moderator,
        is_automatic=acting.is_automatic,
        subject=subject,
        object_ap_id=object_ap_id,
        reason=acting.cleaned_reason,
    )


@dataclass(frozen=True)
class LogLine:
    """One entry as people read it."""

    at: datetime
    action: ModerationAction
    by: str  # a handle, "an instance admin" or "automatic"
    subject: str  # a handle, or ""
    object_ap_id: str
    reason: str


def _by(entry: ModerationEntry) -> str:
    if entry.is_automatic:
        return "automatic"
    if entry.moderator is None:
        return "an instance admin"
    return entry.moderator.handle


def _line(entry: ModerationEntry) -> LogLine:
    return LogLine(
        at=entry.created_at,
        action=entry.action,
        by=_by(entry),
        subject=entry.subject.handle if entry.subject is not None else "",
        object_ap_id=entry.object_ap_id,
        reason=entry.reason,
    )


async def group_log(group: Group, viewer: visibility.Viewer, *, page: int = 1) -> list[LogLine]:
    """The group's log, newest first, if `viewer` may read it; NotFound otherwise."""
    if not await visibility.can_read_moderation_log(group, viewer):
        raise NotFound("no such group log")
    return await log_lines(group, page=page)


async def log_lines(group: Group, *, page: int = 1) -> list[LogLine]:
    """The group's log for its moderators and the command line (no visibility question)."""
    offset = (max(1, page) - 1) * PAGE_SIZE
    entries = (
        await ModerationEntry.filter(group=group)
        .order_by("-id")
        .offset(offset)
        .limit(PAGE_SIZE)
        .select_related("moderator", "subject")
    )
    return [_line(entry) for entry in entries]
