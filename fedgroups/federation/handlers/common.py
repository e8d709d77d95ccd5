"""What every handler needs: the federation services, and the local groups an activity is for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fedgroups.federation.context import Federation
from fedgroups.federation.memo import remember, remembered
from fedgroups.groups.membership import recall_memberships
from fedgroups.groups.posting import recall_carried
from fedgroups.groups.screening import recall_policies
from fedgroups.models import Actor, ActorKind, Group, InboxItem


class Ignored(Exception):
    """The activity is understood but nothing here acts on it (the item is marked ignored, with
    the message as the reason)."""


@dataclass(frozen=True)
class Received:
    """One inbox item being processed, with its verified actor loaded."""

    item: InboxItem
    activity: dict[str, Any]
    actor: Actor
    federation: Federation


def object_id(activity: dict[str, Any]) -> str:
    target = activity.get("object")
    if isinstance(target, dict):
        target = target.get("id")
    return target if isinstance(target, str) else ""


def embedded_object(activity: dict[str, Any]) -> dict[str, Any] | None:
    target = activity.get("object")
    return target if isinstance(target, dict) else None


async def recall_senders(ap_ids: set[str]) -> None:
    """Read ahead, for a batch, the senders that are already known and their memberships."""
    actors = await Actor.filter(ap_id__in=sorted(ap_ids))
    for actor in actors:
        remember(("actor", actor.ap_id), actor)
    await recall_memberships([actor.pk for actor in actors])
    await recall_policies({actor.domain for actor in actors if not actor.is_local})


async def recall_posts(items: Iterable[InboxItem]) -> None:
    """Read ahead, for a batch, which groups already carry the posts its Creates embed (a post
    given by id only is fetched, alone, outside the batch)."""
    ap_ids = set()
    for item in items:
        embedded = embedded_object(item.body) if item.activity_type == "Create" else None
        ap_id = embedded.get("id") if embedded else None
        if isinstance(ap_id, str):
            ap_ids.add(ap_id)
    await recall_carried(ap_ids)


async def local_groups(ap_ids: set[str] | frozenset[str]) -> list[Group]:
    """The groups hosted here among these ids (remembered for a batch's posts)."""
    if not ap_ids:
        return []
    wanted = frozenset(ap_ids)
    return await remembered(("local groups", wanted), lambda: _local_groups(wanted))


async def _local_groups(ap_ids: frozenset[str]) -> list[Group]:
    return await Group.filter(
        actor__ap_id__in=list(ap_ids), actor__kind=ActorKind.GROUP, actor__gone_at=None
    ).select_related("actor")
