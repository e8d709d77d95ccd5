"""THE table from (activity type, object type) to handler, and the processing of inbox items.

Unknown pairs are marked ignored by the worker. Handlers are idempotent and named
`receive_<activity>[_<object>]`; they call `groups` services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fedgroups.activitypub.vocabulary import ACTOR_TYPES
from fedgroups.federation.context import Federation
from fedgroups.federation.handlers.actors import receive_update_actor
from fedgroups.federation.handlers.announces import receive_announce, receive_undo_announce
from fedgroups.federation.handlers.common import Ignored as Ignored
from fedgroups.federation.handlers.common import (
    Received,
    embedded_object,
    recall_posts,
    recall_senders,
)
from fedgroups.federation.handlers.follow import receive_follow, receive_undo_follow
from fedgroups.federation.handlers.group_notes import (
    receive_create,
    receive_delete,
    receive_update,
)
from fedgroups.federation.handlers.moderation import (
    receive_announced_activity,
    receive_collection_change,
    receive_flag,
    receive_lock,
    receive_undo_lock,
)
from fedgroups.federation.handlers.subscriptions import (
    receive_accept_follow,
    receive_block,
    receive_reject_follow,
    receive_undo_block,
)
from fedgroups.federation.memo import remembered
from fedgroups.models import InboxItem

Handler = Callable[[Received], Awaitable[None]]

ANY = "*"
ANNOUNCED_TYPES = ("Note", "Article", "Page", "Question", "Create", "Update", "Delete")
HANDLERS: dict[tuple[str, str], Handler] = {
    ("Follow", ANY): receive_follow,
    ("Undo", "Follow"): receive_undo_follow,
    # A member's post to our groups, or a followed remote group's own Note (group_notes.py).
    ("Create", "Note"): receive_create,
    ("Create", "Article"): receive_create,
    ("Create", "Page"): receive_create,
    ("Create", "Question"): receive_create,
    ("Create", ANY): receive_create,  # object given by id only: fetched, then typed
    ("Update", "Note"): receive_update,
    ("Update", "Article"): receive_update,
    ("Update", "Page"): receive_update,
    ("Update", "Question"): receive_update,
    ("Update", ANY): receive_update,
    **{("Update", kind): receive_update_actor for kind in ACTOR_TYPES},
    ("Delete", ANY): receive_delete,  # a post (id, Tombstone or object) or the actor itself
    # Of one of our groups by a member, a ban by one of its moderators, or a ban by a group.
    ("Block", ANY): receive_block,
    # Answers of remote groups that local people follow.
    ("Accept", "Follow"): receive_accept_follow,
    ("Accept", ANY): receive_accept_follow,  # the Follow named by id only
    ("Reject", "Follow"): receive_reject_follow,
    ("Reject", ANY): receive_reject_follow,
    ("Undo", "Block"): receive_undo_block,
    # What those groups carry: a post by id or embedded, or FEP-1b12 wrapped activities.
    ("Announce", ANY): receive_announce,
    **{("Announce", kind): receive_announce for kind in ANNOUNCED_TYPES},
    ("Undo", "Announce"): receive_undo_announce,
    # Moderation by a group's moderators on other servers, and reports (moderation.py).
    ("Lock", ANY): receive_lock,
    ("Undo", "Lock"): receive_undo_lock,
    ("Add", ANY): receive_collection_change,
    ("Remove", ANY): receive_collection_change,
    ("Flag", ANY): receive_flag,
}
# What a moderator may also send wrapped in an Announce of their own (FEP-1b12).
WRAPPABLE = frozenset(
    {receive_delete, receive_block, receive_undo_block, receive_lock, receive_undo_lock}
)


async def receive_announce_moderation(received: Received) -> None:
    await receive_announced_activity(received, _wrappable_handler)


def _wrappable_handler(inner: dict[str, Any]) -> Handler | None:
    handler = handler_for(inner)
    return handler if handler in WRAPPABLE else None


HANDLERS.update(
    {
        ("Announce", kind): receive_announce_moderation
        for kind in ("Delete", "Block", "Lock", "Undo")
    }
)
# Activities whose object may be of any type (or an id): unknown object types still match.
ANY_OBJECT = frozenset({"Follow", "Delete", "Block", "Lock", "Add", "Remove", "Flag"})


def _object_type(activity: dict[str, Any]) -> str:
    embedded = embedded_object(activity)
    kind = embedded.get("type") if embedded else None
    return kind if isinstance(kind, str) else ANY


def handler_for(activity: dict[str, Any]) -> Handler | None:
    kind = str(activity.get("type", ""))
    object_type = _object_type(activity)
    return HANDLERS.get((kind, object_type)) or (
        HANDLERS.get((kind, ANY)) if object_type == ANY or kind in ANY_OBJECT else None
    )


class Dispatcher:
    """The worker's inbox processor for one instance: one item at a time, and `prepare`, which
    reads what a batch's items will look up (their senders and the groups they belong to,
    and which groups already carry its posts) in a few queries instead of a few per item."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation

    async def __call__(self, item: InboxItem) -> None:
        activity: dict[str, Any] = item.body
        handler = handler_for(activity)
        if handler is None:
            raise Ignored(f"no handler for {activity.get('type')} {_object_type(activity)}")
        ap_id = item.actor_ap_id
        remote_actors = self.federation.remote_actors
        actor = await remembered(("actor", ap_id), lambda: remote_actors.get_actor(ap_id))
        await handler(
            Received(item=item, activity=activity, actor=actor, federation=self.federation)
        )

    async def prepare(self, items: Sequence[InboxItem]) -> None:
        await recall_senders({item.actor_ap_id for item in items})
        await recall_posts(items)


def make_inbox_processor(federation: Federation) -> Dispatcher:
    return Dispatcher(federation)
