"""Turn domain facts into ActivityStreams JSON: actors and collections.

Takes plain values (no models), so the wire format can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedgroups.activitypub.vocabulary import (
    ACTOR_CONTEXT,
    APPLICATION_CONTEXT,
    AS_NS,
    COLLECTION_PAGE_SIZE,
)


@dataclass(frozen=True)
class ActorUrls:
    """The endpoints of one local actor, derived from its id."""

    ap_id: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    moderators: str
    shared_inbox: str

    @classmethod
    def for_actor(cls, ap_id: str, base_url: str) -> ActorUrls:
        return cls(
            ap_id=ap_id,
            inbox=f"{ap_id}/inbox",
            outbox=f"{ap_id}/outbox",
            followers=f"{ap_id}/followers",
            following=f"{ap_id}/following",
            featured=f"{ap_id}/featured",
            moderators=f"{ap_id}/moderators",
            shared_inbox=f"{base_url}/inbox",
        )


@dataclass(frozen=True)
class GroupProfile:
    """What a Group actor document says about the group."""

    urls: ActorUrls
    username: str
    domain: str
    name: str
    summary_html: str
    profile_url: str
    published: datetime
    is_private: bool
    public_key_pem: str


def iso(moment: datetime) -> str:
    """AS2 timestamps: UTC, second precision, `Z` suffix (what Mastodon emits and parses)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_public_key(ap_id: str, pem: str) -> dict[str, str]:
    # publicKey.owner must equal the actor id exactly, or Mastodon drops the key.
    return {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": pem}


def render_group_actor(group: GroupProfile) -> dict[str, Any]:
    """The Group actor as Mastodon, Lemmy and Fedify expect it (federation-interop.md 2.2)."""
    urls = group.urls
    return {
        "@context": ACTOR_CONTEXT,
        "id": urls.ap_id,
        "type": "Group",
        "preferredUsername": group.username,
        "webfinger": f"{group.username}@{group.domain}",
        "name": group.name,
        "summary": group.summary_html,
        "url": group.profile_url,
        "published": iso(group.published),
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "featured": urls.featured,
        # FEP-1b12: moderators are the group's attributedTo; Lemmy also reads `moderators`.
        "attributedTo": urls.moderators,
        "moderators": urls.moderators,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": group.is_private,
        # Support groups stay out of directories and full-text search by default.
        "discoverable": False,
        "indexable": False,
        "postingRestrictedToMods": False,
        "sensitive": False,
        "publicKey": render_public_key(urls.ap_id, group.public_key_pem),
    }


def render_application_actor(
    ap_id: str, domain: str, base_url: str, public_key_pem: str
) -> dict[str, Any]:
    """The instance actor (FEP-2677) that signs our GETs; always served unsigned."""
    shared_inbox = f"{base_url}/inbox"
    return {
        "@context": APPLICATION_CONTEXT,
        "id": ap_id,
        "type": "Application",
        "preferredUsername": domain,
        "name": domain,
        "inbox": shared_inbox,
        "outbox": f"{ap_id}/outbox",
        "endpoints": {"sharedInbox": shared_inbox},
        "url": f"{base_url}/about",
        "manuallyApprovesFollowers": True,
        "publicKey": render_public_key(ap_id, public_key_pem),
    }


def render_collection(collection_id: str, total: int, *, paged: bool = True) -> dict[str, Any]:
    """An OrderedCollection head. Without `first`, Mastodon shows the count but hides the list."""
    document: dict[str, Any] = {
        "@context": AS_NS,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if paged:
        document["first"] = f"{collection_id}?page=1"
        last_page = max(1, -(-total // COLLECTION_PAGE_SIZE))
        document["last"] = f"{collection_id}?page={last_page}"
    return document


def render_collection_page(
    collection_id: str, page: int, items: list[Any], *, has_next: bool
) -> dict[str, Any]:
    """One OrderedCollectionPage, newest first, linked to its neighbours."""
    document: dict[str, Any] = {
        "@context": AS_NS,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if has_next:
        document["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{collection_id}?page={page - 1}"
    return document


def render_unpaged_collection(collection_id: str, items: list[Any]) -> dict[str, Any]:
    """Small collections (moderators, featured) carry their items inline."""
    return {
        "@context": AS_NS,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def render_person_actor(
    urls: ActorUrls,
    username: str,
    domain: str,
    display_name: str,
    summary_html: str,
    published: datetime,
    public_key_pem: str,
) -> dict[str, Any]:
    """A local member's Person actor, so they can follow and post to groups anywhere."""
    return {
        "@context": ACTOR_CONTEXT,
        "id": urls.ap_id,
        "type": "Person",
        "preferredUsername": username,
        "webfinger": f"{username}@{domain}",
        "name": display_name,
        "summary": summary_html,
        "url": urls.ap_id,
        "published": iso(published),
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": False,
        "discoverable": False,
        "indexable": False,
        "publicKey": render_public_key(urls.ap_id, public_key_pem),
    }
