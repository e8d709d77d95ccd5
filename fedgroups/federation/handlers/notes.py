"""Create, Update and Delete of members' posts addressed to our groups.

An embedded object is trusted only when it lives on the actor's own origin and is attributed
to the actor; anything else is fetched from its origin instead (T10). Edits and deletions are
taken only from the post's own author; a Delete by anyone else is a moderator's removal,
honoured only from the moderators of a group carrying the post.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from tortoise.expressions import Q

from fedgroups.activitypub.parse import ParsedPost, addressed_to, parse_post, same_origin
from fedgroups.errors import MalformedActivity
from fedgroups.federation.fetch import fetch_document
from fedgroups.federation.handlers.common import Received, embedded_object, local_groups, object_id
from fedgroups.federation.handlers.moderation import remove_as_moderator
from fedgroups.groups.departures import account_deleted
from fedgroups.groups.posting import delete_post, receive_post, update_post
from fedgroups.models import Post


async def _authentic_object(received: Received) -> dict[str, Any]:
    embedded = embedded_object(received.activity)
    actor_id = received.actor.ap_id
    if embedded is not None and same_origin(str(embedded.get("id", "")), actor_id):
        return embedded
    target = object_id(received.activity)
    if not target:
        raise MalformedActivity(f"{received.activity.get('type')} without an object")
    federation = received.federation
    fetched = await fetch_document(
        federation.client, target, sign_get=federation.remote_actors.sign_get
    )
    return fetched.data


async def _authored_post(received: Received) -> ParsedPost:
    post = parse_post(await _authentic_object(received))
    if post.attributed_to != received.actor.ap_id:
        raise MalformedActivity("the post's author is not the activity's actor")
    return post


async def _groups_for(post_recipients: frozenset[str], in_reply_to: str) -> set[str]:
    ids = set(post_recipients)
    if in_reply_to:  # a reply in a thread one of our groups carries
        parent_groups = await Post.filter(
            Q(ap_id=in_reply_to) | Q(source_ap_id=in_reply_to)
        ).values_list("group__actor__ap_id", flat=True)
        ids.update(str(group_id) for group_id in parent_groups)
    return ids


def _on_origin(ap_ids: set[str], base_url: str) -> set[str]:
    """The ids that could name something hosted here (not Public, not others' followers)."""
    ours = set()
    for ap_id in ap_ids:
        with suppress(ValueError):  # not a URL at all: not ours either
            if same_origin(ap_id, base_url):
                ours.add(ap_id)
    return ours


async def receive_create_post(received: Received) -> None:
    post = await _authored_post(received)
    activity_recipients = addressed_to(received.activity)
    candidates = await _groups_for(post.recipients | activity_recipients, post.in_reply_to)
    ours = _on_origin(candidates, received.federation.settings.base_url)
    for group in await local_groups(ours):  # only ids of ours: the same few, remembered
        await receive_post(group, received.actor, post, received.activity)


async def receive_update_post(received: Received) -> None:
    await update_post(received.actor, await _authored_post(received), received.activity)


async def receive_delete(received: Received) -> None:
    """Delete of a post by its author, of the author's whole account (Mastodon's shape), or of
    someone else's post by a moderator of a group carrying it (Lemmy's "remove")."""
    target = object_id(received.activity)
    if target == received.actor.ap_id:
        await account_deleted(received.actor)
        return
    if same_origin(target, received.actor.ap_id) and await delete_post(
        received.actor, target, received.activity
    ):
        return
    await remove_as_moderator(received, target)
