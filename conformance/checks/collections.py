"""The group's collections: types, counts and paging as Mastodon and Lemmy walk them."""

from __future__ import annotations

from typing import Any

from conformance.checks.actor import expect_ap_document
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("collections")

COLLECTIONS = ("OrderedCollection", "Collection")
PAGES = ("OrderedCollectionPage", "CollectionPage")
HIDDEN_STATUSES = (401, 403, 404)


async def _collection(context: Context, name: str) -> tuple[str, dict[str, Any]]:
    url = await context.actor_field(name)
    fetched = await context.get(url)
    if fetched.status in HIDDEN_STATUSES and await context.is_members_only():
        raise Skipped(f"members-only group: {name} answers {fetched.status} to strangers")
    document = expect_ap_document(fetched)
    if document.get("id") != url:
        raise Failed(f"{name} id {document.get('id')!r} differs from the URL fetched, {url}")
    if document.get("type") not in COLLECTIONS:
        raise Failed(f"{name} type {document.get('type')!r} is not one of {COLLECTIONS}")
    total = document.get("totalItems")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise Failed(f"{name} totalItems {total!r} is not a non-negative integer")
    return url, document


async def _page(context: Context, reference: Any, parent: str, label: str) -> dict[str, Any]:
    """A page given by URL or embedded; checks its type, items and partOf."""
    if isinstance(reference, dict):
        page = reference
    elif isinstance(reference, str):
        page = expect_ap_document(await context.get(reference))
        if page.get("id") != reference:
            raise Failed(f"{label} id {page.get('id')!r} differs from its URL {reference}")
    else:
        raise Failed(f"{label} is {reference!r}, neither a URL nor an embedded page")
    if page.get("type") not in PAGES:
        raise Failed(f"{label} type {page.get('type')!r} is not one of {PAGES}")
    items = page.get("orderedItems", page.get("items"))
    if not isinstance(items, list):
        raise Failed(f"{label} has no items or orderedItems array")
    if "partOf" in page and page["partOf"] != parent:
        raise Failed(f"{label} partOf {page['partOf']!r} is not the collection {parent}")
    return page


async def _walk(context: Context, url: str, document: dict[str, Any], name: str) -> str:
    """Follow `first` then `next`, as Mastodon does [M json_ld_helper.rb collection_items]."""
    first = await _page(context, document["first"], url, f"{name} first page")
    items = len(first.get("orderedItems", first.get("items", [])))
    if document["totalItems"] > 0 and items == 0:
        raise Failed(f"{name} has totalItems {document['totalItems']} but its first page is empty")
    if first.get("next") is not None:
        await _page(context, first["next"], url, f"{name} next page")
        return f"totalItems {document['totalItems']}, first page {items} items, next page valid"
    return f"totalItems {document['totalItems']}, first page {items} items"


@check(
    "collections.outbox",
    rule=(
        "OrderedCollection with totalItems and first/next paging [AP 5.1; AS2 Core 2.3; M "
        "outboxes_controller.rb] (interop 5)"
    ),
)
async def outbox(context: Context) -> str:
    url, document = await _collection(context, "outbox")
    if "first" not in document:
        raise Failed("the outbox has no first page; peers cannot read the group's activity")
    return await _walk(context, url, document, "outbox")


@check(
    "collections.followers",
    rule=(
        "count always; first optional (hidden list) [M process_account_service.rb "
        "followers_private?] (interop 5)"
    ),
)
async def followers(context: Context) -> str:
    url, document = await _collection(context, "followers")
    if "first" not in document:
        return f"totalItems {document['totalItems']}, list hidden (no first), as Mastodon hides it"
    return await _walk(context, url, document, "followers")


@check(
    "collections.featured",
    rule="items inline or on the first page [M fetch_featured_collection_service.rb] (interop 5)",
)
async def featured(context: Context) -> str:
    url, document = await _collection(context, "featured")
    if "first" in document:
        return await _walk(context, url, document, "featured")
    items = document.get("orderedItems", document.get("items"))
    if not isinstance(items, list):
        raise Failed("featured has neither items nor a first page")
    if len(items) != document["totalItems"]:
        raise Failed(
            f"featured lists {len(items)} items but totalItems is {document['totalItems']}"
        )
    return f"totalItems {document['totalItems']}, items inline"
