"""Rate limits on guessable actions (login, sign-up, password change), counted in the database.

Counting rows in the shared database means every web process enforces the same limit.
Limits are per client address and, for logins, per account as well (T44), so spreading a
guessing run over many addresses does not buy more guesses at one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fedgroups.models import ThrottleHit


@dataclass(frozen=True)
class Limit:
    bucket: str
    attempts: int
    window: timedelta


LOGIN_PER_ADDRESS = Limit("login-addr", 10, timedelta(minutes=15))
LOGIN_PER_ACCOUNT = Limit("login-account", 30, timedelta(hours=1))
SIGNUP_PER_ADDRESS = Limit("signup-addr", 5, timedelta(hours=1))
PASSWORD_PER_ACCOUNT = Limit("password", 10, timedelta(hours=1))
PRUNE_AFTER = timedelta(days=1)


async def retry_after(limit: Limit, key: str) -> int:
    """Seconds until another attempt is allowed under `limit` for `key`; 0 when allowed now."""
    now = datetime.now(UTC)
    recent = (
        await ThrottleHit.filter(
            bucket=limit.bucket, key=key[:255], created_at__gt=now - limit.window
        )
        .order_by("-created_at")
        .limit(limit.attempts)
        .values_list("created_at", flat=True)
    )
    if len(recent) < limit.attempts:
        return 0
    oldest: datetime = min(recent)  # type: ignore[assignment]
    return max(1, int((oldest + limit.window - now).total_seconds()) + 1)


async def record(limit: Limit, key: str) -> None:
    """Count one attempt; old rows are pruned as we go, so the table stays small."""
    now = datetime.now(UTC)
    await ThrottleHit.create(bucket=limit.bucket, key=key[:255], created_at=now)
    await ThrottleHit.filter(created_at__lt=now - PRUNE_AFTER).delete()
