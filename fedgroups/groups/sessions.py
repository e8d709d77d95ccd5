"""Server-side login sessions: opened at login, ended by logout, all revoked on a new password.

The browser holds a random token; the database holds only its SHA-256, so a leaked table
does not log anyone in. A session is looked up on every request, which is what makes
revocation immediate (T47, T48).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from fedgroups.models import Account, Session

SESSION_LIFETIME = timedelta(days=30)  # since last use
SESSION_MAX_AGE = timedelta(days=90)  # since login, however active
TOUCH_EVERY = timedelta(minutes=10)  # how stale last_seen_at may get before a write


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(account: Account) -> str:
    """A fresh session for `account`; returns the token for the cookie (T46: always new)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await Session.filter(expires_at__lt=now).delete()  # housekeeping: logins are rare enough
    await Session.create(
        token_hash=_digest(token),
        account=account,
        last_seen_at=now,
        expires_at=now + SESSION_MAX_AGE,
    )
    return token


async def account_for_token(token: str) -> Account | None:
    """The active account a session token belongs to, or None (expired, revoked, suspended)."""
    if not token or len(token) > 128:
        return None
    session = await Session.get_or_none(token_hash=_digest(token)).select_related(
        "account", "account__actor"
    )
    if session is None:
        return None
    now = datetime.now(UTC)
    if now > session.expires_at or now - session.last_seen_at > SESSION_LIFETIME:
        await session.delete()
        return None
    account: Account = session.account
    if not account.can_log_in or account.actor.gone_at is not None:
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        await Session.filter(id=session.id).update(last_seen_at=now)
    return account


def session_key(token: str) -> str:
    """A stable, non-secret name of a session, to bind CSRF tokens to it."""
    return _digest(token)


async def close_session(token: str) -> None:
    await Session.filter(token_hash=_digest(token)).delete()


async def revoke_sessions(account: Account) -> int:
    """End every session of `account` (password change, account deletion)."""
    return await Session.filter(account=account).delete()
