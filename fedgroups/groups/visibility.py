"""THE place that decides who may see what. Every read path asks here, nothing else decides.

A viewer is the verified actor behind a request (a signed GET, or a logged-in member's
session), or None for an anonymous reader. It may be handed over lazily, as an `Asker`: it is
only asked for when the answer depends on who is asking, so public reads never pay for a
signature check. Members-only groups show anonymous readers and non-members nothing but the
group's own profile and follower count, and the same 404 as for ids that never existed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from fedgroups.activitypub.vocabulary import PUBLIC
from fedgroups.models import (
    Account,
    Actor,
    Group,
    GroupSubscription,
    GroupSubscriptionState,
    Membership,
    MembershipRole,
    MembershipState,
    OutboxActivity,
    Post,
    RemoteGroupPost,
)

Asker = Callable[[], Awaitable[Actor | None]]
Viewer = Actor | Asker | None


async def _who(viewer: Viewer) -> Actor | None:
    if viewer is None or isinstance(viewer, Actor):
        return viewer
    return await viewer()


async def is_approved_member(group: Group, viewer: Viewer) -> bool:
    actor = await _who(viewer)
    if actor is None:
        return False
    return await Membership.exists(group=group, actor=actor, state=MembershipState.APPROVED)


async def is_instance_admin(viewer: Viewer) -> bool:
    actor = await _who(viewer)
    if actor is None or not actor.is_local:
        return False
    return await Account.exists(actor=actor, is_admin=True, is_suspended=False)


async def can_moderate(group: Group, viewer: Viewer) -> bool:
    """The group's moderators and owner (as its moderators collection lists them), and admins.

    Only they see the queue of held posts, reports and join requests, and act on them.
    """
    actor = await _who(viewer)
    if actor is None:
        return False
    is_moderator = await Membership.exists(
        group=group,
        actor=actor,
        state=MembershipState.APPROVED,
        role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
    )
    return is_moderator or await is_instance_admin(actor)


async def can_read_moderation_log(group: Group, viewer: Viewer) -> bool:
    """A group's moderation log is for its members (Lemmy shows private groups' to members only).

    It names members and the posts acted on, so even a public group keeps it among members.
    """
    actor = await _who(viewer)
    return await is_approved_member(group, actor) or await can_moderate(group, actor)


async def can_read_content(group: Group, viewer: Viewer) -> bool:
    """Posts, activities, the outbox and featured: public groups to all, members-only to members."""
    if not group.is_private:
        return True
    return await is_approved_member(group, viewer)


async def can_list_followers(group: Group, viewer: Viewer) -> bool:
    """Who follows a group is shown for public groups only; members-only groups give a count."""
    return not group.is_private


async def can_list_moderators(group: Group, viewer: Viewer) -> bool:
    """Moderators are members too: a members-only group names them to its members only (T66)."""
    return await can_read_content(group, viewer)


def is_everyones_view(group: Group, viewer: Viewer) -> bool:
    """Whether `viewer` sees the group as every anonymous reader does, so one rendering of
    its page may serve them all: nobody logged in, and a group whose posts are public.

    A members-only group's page is never shared (a member's view must never reach anyone
    else), nor is any logged-in or signed-in reader's.
    """
    return is_nobody_in_particular(viewer) and not group.is_private


def is_nobody_in_particular(viewer: Viewer) -> bool:
    """An anonymous reader, who may be given a page rendered for every anonymous reader, as
    long as nothing it was rendered from changed since `is_everyones_view` allowed it."""
    return viewer is None


async def readable_posts(group: Group, viewer: Viewer) -> QuerySet[Post]:
    """The group's live posts `viewer` may read: members read them all, others the public ones.

    Callers check `can_read_content` first (members-only groups show non-members nothing).
    In an open group, a member's followers-only or direct post is for members only.
    """
    posts = Post.filter(group=group, deleted_at=None)
    if group.is_private or await is_approved_member(group, viewer):
        return posts
    return posts.filter(is_public=True)


async def visible_group_note(group: Group, ap_id: str, viewer: Viewer) -> Post | None:
    """A Note the group published under its own name, if it exists and `viewer` may read it.

    Members-only groups decide before looking anything up, so a hidden id and an unknown one
    take the same path. Deleted posts are gone for everyone (Mastodon drops its copy on 404).
    """
    if not await can_read_content(group, viewer):
        return None
    post = await Post.get_or_none(
        ap_id=ap_id,
        group=group,
        publisher_id=group.actor_id,  # type: ignore[attr-defined]
        deleted_at=None,
    )
    if post is None or post.is_public or group.is_private:
        return post  # a public read never needs to know who asks (no signature check)
    return post if await is_approved_member(group, viewer) else None


async def visible_activity(group: Group, ap_id: str, viewer: Viewer) -> OutboxActivity | None:
    """An activity the group sent, if `viewer` may read it (T57).

    What the group shared with its audience (addressed to Public or its followers) follows the
    group's content rule, and a followers-only one needs a member. What it addressed to one
    actor (Accept, Reject, Block, their Undo) is for that actor alone. Activities about a
    deleted post are gone: a wrapped Create or Update would still hold its words.
    """
    if not await can_read_content(group, viewer):
        return None
    activity = await OutboxActivity.get_or_none(
        ap_id=ap_id,
        group=group,
        actor_id=group.actor_id,  # type: ignore[attr-defined]
    )
    if activity is None or await _is_about_a_deleted_post(group, activity):
        return None
    if not _is_for_the_audience(group, activity.payload):
        return activity if await _is_addressed_to(activity.payload, viewer) else None
    if activity.is_public or group.is_private:  # members-only: membership was checked above
        return activity
    return activity if await is_approved_member(group, viewer) else None


async def _is_about_a_deleted_post(group: Group, activity: OutboxActivity) -> bool:
    if not activity.object_ap_id:
        return False
    return await Post.exists(group=group, ap_id=activity.object_ap_id, deleted_at__isnull=False)


def _addressees(payload: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in ("to", "cc"):
        value = payload.get(key)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found.update(item for item in values if isinstance(item, str))
    return found


def _is_for_the_audience(group: Group, payload: dict[str, Any]) -> bool:
    return bool(_addressees(payload) & {PUBLIC, group.actor.followers_url})


async def _is_addressed_to(payload: dict[str, Any], viewer: Viewer) -> bool:
    actor = await _who(viewer)
    return actor is not None and actor.ap_id in _addressees(payload)


# --- groups hosted on other servers ------------------------------------------------------


async def is_remote_group_member(group: Actor, viewer: Viewer) -> bool:
    """A local person the remote `group` accepted (and has not removed or banned since)."""
    actor = await _who(viewer)
    if actor is None:
        return False
    return await GroupSubscription.exists(
        actor=actor, group_actor=group, state=GroupSubscriptionState.ACCEPTED
    )


async def can_read_person_post(post: RemoteGroupPost, viewer: Viewer) -> bool:
    """A local person's post to a remote group, at its id: public ones to everyone.

    Group-only posts go to their author, the group they were sent to, and actors of the
    group's own server (which received the post already); everyone else gets a 404.
    """
    if post.deleted_at is not None:
        return False
    if post.is_public:
        return True
    actor = await _who(viewer)
    if actor is None:
        return False
    group: Actor = await post.group_actor
    author_id = post.author_id  # type: ignore[attr-defined]
    return actor.id in (author_id, group.id) or actor.domain == group.domain


async def readable_remote_posts(group: Actor, viewer: Viewer) -> Any:
    """The posts of a remote group that `viewer` may read here, as a query to page.

    What the group carries (its Announce arrived): all of it for its local members, the
    public posts of an open group for everyone else, nothing of a members-only group.
    A person always sees their own posts, also before the group shares them.
    """
    actor = await _who(viewer)
    posts = RemoteGroupPost.filter(group_actor=group, deleted_at=None, removed_at=None)
    carried = Q(announced_at__isnull=False)
    if await is_remote_group_member(group, actor):
        condition = carried
    elif not group.manually_approves_followers:
        condition = carried & Q(is_public=True)
    else:
        condition = Q(id__in=[])
    if actor is not None:
        condition |= Q(author_id=actor.id)
    return posts.filter(condition)
