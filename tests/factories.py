"""Small helpers that make real rows through the real services (never mocks of our database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fedgroups.groups.accounts import create_account
from fedgroups.groups.directory import create_group
from fedgroups.groups.following import record_ban, record_follow_answer, subscribe
from fedgroups.models import Account, Actor, ActorKind, Group, GroupSubscription
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


async def make_remote_actor(
    base_url: str,
    name: str = "rosa",
    *,
    shared: bool = True,
    kind: ActorKind = ActorKind.PERSON,
    locked: bool = False,
) -> Actor:
    """A cached remote actor at `base_url`, stored as `RemoteActors.store_actor` would."""
    ap_id = f"{base_url}/users/{name}"
    return await Actor.create(
        ap_id=ap_id,
        kind=kind,
        manually_approves_followers=locked,
        username=name,
        domain=base_url.split("://", 1)[1],
        handle_key=ap_id,  # remote actors are unique by id, as in production
        inbox_url=f"{ap_id}/inbox",
        shared_inbox_url=f"{base_url}/inbox" if shared else "",
        public_key_id=f"{ap_id}#main-key",
        public_key_pem="",
    )


async def make_membership_elsewhere(
    person: Actor, group: Actor, state: str = "accepted"
) -> GroupSubscription:
    """`person` (local) followed the remote `group`, which answered as `state` says."""
    subscription = await subscribe(person, group)
    if state != "pending":
        await record_follow_answer(group, subscription.follow_ap_id, "", accepted=True)
    if state == "banned":
        await record_ban(group, person.ap_id)
    return await GroupSubscription.get(id=subscription.id)


PAYLOADS = Path(__file__).parent / "payloads"


def captured(software: str, name: str, replacements: dict[str, str]) -> dict[str, Any]:
    """A payload captured from real software, its ids swapped for the test's own (whole
    strings only, so one id is never rewritten inside another)."""
    document = json.loads((PAYLOADS / software / name).read_text())["payload"]

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return replacements.get(value, value)
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        return value

    result: dict[str, Any] = swap(document)
    return result
