"""Small helpers that make real rows through the real services (never mocks of our database)."""

from __future__ import annotations

from fedgroups.groups.accounts import create_account
from fedgroups.groups.directory import create_group
from fedgroups.models import Account, Group
from fedgroups.settings import Settings


async def make_account(settings: Settings, name: str = "alice", *, admin: bool = False) -> Account:
    return await create_account(settings, name, "correct horse battery", is_admin=admin)


async def make_group(
    settings: Settings, slug: str = "recovery", *, private: bool = False, owner: str | None = None
) -> Group:
    group = await create_group(
        settings, slug, slug.title() + " Circle", is_private=private, owner_username=owner
    )
    await group.fetch_related("actor")
    return group
