"""Rules for local usernames and group slugs, shared by the CLI and the web forms."""

from __future__ import annotations

import re
from typing import Final

from fedgroups.errors import ValidationError

# Mastodon's USERNAME_RE (app/models/account.rb): dots and hyphens only between other
# characters. Mastodon rejects actors whose preferredUsername does not match it.
USERNAME_RE: Final = re.compile(r"[a-z0-9_]+([.-]+[a-z0-9_]+)*", re.IGNORECASE)
MAX_LENGTH: Final = 30

# Names that would collide with our own paths, or that people could mistake for staff.
RESERVED: Final = frozenset(
    {
        "about", "actor", "admin", "administrator", "api", "auth", "groups", "help",
        "inbox", "instance", "login", "logout", "mod", "moderator", "moderators",
        "nodeinfo", "outbox", "root", "settings", "signup", "static", "support-team",
        "system", "well-known", "www",
    }
)  # fmt: skip


def validate_name(name: str, *, what: str = "name") -> str:
    """Return `name` if it can be a handle here; raise ValidationError saying why not."""
    if not name:
        raise ValidationError(f"{what} must not be empty")
    if len(name) > MAX_LENGTH:
        raise ValidationError(f"{what} {name!r} is longer than {MAX_LENGTH} characters")
    if not USERNAME_RE.fullmatch(name):
        raise ValidationError(
            f"{what} {name!r} may use only letters, digits and underscores, "
            "with dots or hyphens only between them"
        )
    if name.lower() in RESERVED:
        raise ValidationError(f"{what} {name!r} is reserved")
    return name
