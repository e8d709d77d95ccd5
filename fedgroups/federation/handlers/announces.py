"""Announces from remote groups that local people follow: the posts the group carries.

Only groups with an accepted local member are listened to. An announced post is trusted as
embedded only when the group's own server wrote it (same origin as the signer, and attributed
to that origin); anything else is fetched from its origin, by id (T10, T11). Update and Delete
wrapped in an Announce (FEP-1b12) are confirmed at the origin the same way (T12).
"""

from __future__ import annotations

from typing import Any

from fedgroups.activitypub.parse import ParsedPost, parse_post, same_origin
from fedgroups.activitypub.references import Announced, parse_announce, parse_undo
from fedgroups.errors import OriginMismatch
from fedgroups.federation.delivery import domain_of
from fedgroups.federation.fetch import FetchStatusError, fetch_document
from fedgroups.federation.handlers.common import Ignored, Received
from fedgroups.groups.following import is_followed_here
from fedgroups.groups.remote_posts import (
    apply_post_update,
    delete_post_copies,
    holds_post,
    mark_announced,
    store_announced_post,
    withdraw_announce,
)
from fedgroups.models.domain import is_domain_blocked

GONE = (404, 410)


async def receive_announce(received: Received) -> None:
    if not await is_followed_here(received.actor):
        raise Ignored("nobody here is a member of the announcing actor")
    announced = parse_announce(received.activity)
    if announced.wrapper == "Update":
        await _apply_update(received, announced)
    elif announced.wrapper == "Delete":
        await _apply_delete(received, announced)
    elif _is_ours(received, announced.object_id):
        # A local person's post coming back from the group: it is in the group now.
        stored = await mark_announced(received.actor, announced.object_id, announced.announce_id)
        if stored is None:
            raise Ignored("not a post sent from here to this group")
    else:
        await _store(received, announced)


async def receive_undo_announce(received: Received) -> None:
    """The group took back an Announce: the post is no longer in the group."""
    undone = parse_undo(received.activity)
    if not undone.ap_id or not await withdraw_announce(received.actor, undone.ap_id):
        raise Ignored("no post kept here under that Announce")


async def _store(received: Received, announced: Announced) -> None:
    if await is_domain_blocked(domain_of(announced.object_id)):
        # Relayed content from a blocked server is dropped, without a fetch (T13, T65).
        raise Ignored("the post's server is blocked here")
    post = await _authentic_post(received, announced)
    author = await received.federation.remote_actors.get_actor(post.attributed_to)
    await store_announced_post(received.actor, author, post, announced.announce_id)


async def _apply_update(received: Received, announced: Announced) -> None:
    if _is_ours(received, announced.object_id) or not await holds_post(announced.object_id):
        raise Ignored("not a post kept here")
    try:
        post = await _authentic_post(received, announced)
    except FetchStatusError as exc:
        if exc.status not in GONE:
            raise
        await delete_post_copies(announced.object_id)
        return
    await apply_post_update(post)


async def _apply_delete(received: Received, announced: Announced) -> None:
    """Believed when the group's own server says so, or when the origin no longer serves it."""
    object_id = announced.object_id
    if _is_ours(received, object_id) or not await holds_post(object_id):
        raise Ignored("not a post kept here")
    if not same_origin(object_id, received.actor.ap_id):
        try:
            document = await _fetch(received, object_id)
        except FetchStatusError as exc:
            if exc.status not in GONE:
                raise
        else:
            if document.get("type") != "Tombstone":
                raise Ignored("the post is still served by its origin")
    await delete_post_copies(object_id)


async def _authentic_post(received: Received, announced: Announced) -> ParsedPost:
    return await authentic_post(received, announced.object_id, announced.embedded)


async def authentic_post(
    received: Received, object_id: str, embedded: dict[str, Any] | None
) -> ParsedPost:
    """The post `object_id` as its origin vouches for it: the sender's own embedded copy when
    the sender's server wrote it, else what its origin serves."""
    if embedded is not None and _vouched_by(received.actor.ap_id, object_id, embedded):
        data = embedded
    else:
        data = await _fetch(received, object_id)
    post = parse_post(data)
    if post.ap_id != object_id:
        raise OriginMismatch("the fetched post has another id")
    if not same_origin(post.ap_id, post.attributed_to):
        # Mastodon's "trustworthy attribution": a server speaks only for its own people.
        raise OriginMismatch("the post is attributed to someone on another server")
    return post


def _vouched_by(signer_id: str, object_id: str, embedded: dict[str, Any]) -> bool:
    author = embedded.get("attributedTo")
    return (
        same_origin(object_id, signer_id)
        and isinstance(author, str)
        and same_origin(author, signer_id)
    )


async def _fetch(received: Received, url: str) -> dict[str, Any]:
    federation = received.federation
    fetched = await fetch_document(
        federation.client, url, sign_get=federation.remote_actors.sign_get
    )
    return fetched.data


def _is_ours(received: Received, object_id: str) -> bool:
    return same_origin(object_id, received.federation.settings.base_url)
