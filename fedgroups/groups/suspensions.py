"""Suspending a local account: an admin's stop, reversible, written to the admins' log.

A suspended account cannot log in, its sessions end at once, and it can neither post nor
follow (on the web nor from the command line); its profile answers 404 and it gets no admin
notifications. What it already posted stays where it is: suspension is reversible and does
not tear holes in threads others replied to. Remove posts one by one, or ban the person from
a group with `--remove-posts`, when they must go.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fedgroups.errors import Conflict, ValidationError
from fedgroups.groups.admin_log import record_admin_action
from fedgroups.groups.sessions import revoke_sessions
from fedgroups.models import Account, Actor, ModerationAction

MAX_REASON = 1_000
PAGE_SIZE = 100


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    return reason


async def suspend_account(account: Account, *, reason: str = "", by: Actor | None = None) -> None:
    """Suspend `account` and end its sessions. An admin cannot suspend their own account."""
    await account.fetch_related("actor")
    if by is not None and by.id == account.actor.id:
        raise ValidationError("You cannot suspend your own account.", field="form")
    if account.is_suspended:
        raise Conflict(f"@{account.actor.username} is already suspended")
    account.is_suspended, account.suspended_at = True, datetime.now(UTC)
    account.suspension_reason = _reason(reason)
    async with in_transaction():
        await account.save(update_fields=["is_suspended", "suspended_at", "suspension_reason"])
        await revoke_sessions(account)
        await record_admin_action(
            ModerationAction.SUSPEND_ACCOUNT, by, subject=account.actor,
            reason=account.suspension_reason,
        )  # fmt: skip


async def unsuspend_account(account: Account, *, reason: str = "", by: Actor | None = None) -> None:
    """Lift a suspension: the person logs in again as before."""
    await account.fetch_related("actor")
    if not account.is_suspended:
        raise Conflict(f"@{account.actor.username} is not suspended")
    account.is_suspended, account.suspended_at, account.suspension_reason = False, None, ""
    async with in_transaction():
        await account.save(update_fields=["is_suspended", "suspended_at", "suspension_reason"])
        await record_admin_action(
            ModerationAction.UNSUSPEND_ACCOUNT, by, subject=account.actor, reason=_reason(reason)
        )


async def local_accounts(query: str = "", *, suspended_only: bool = False) -> list[Account]:
    """Local accounts for the admins' list, newest first; `query` matches the name."""
    accounts = Account.filter(actor__gone_at=None)
    if query.strip():
        needle = query.strip().lstrip("@").split("@")[0]
        accounts = accounts.filter(
            Q(actor__username__icontains=needle) | Q(actor__display_name__icontains=needle)
        )
    if suspended_only:
        accounts = accounts.filter(is_suspended=True)
    return await accounts.order_by("-id").limit(PAGE_SIZE).select_related("actor")


async def find_local_account(account_id: int) -> Account | None:
    return await Account.get_or_none(id=account_id, actor__gone_at=None).select_related("actor")
