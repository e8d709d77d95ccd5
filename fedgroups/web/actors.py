"""ActivityPub GETs of our actors and their collections (and the group's HTML page).

Thin endpoints: the documents come from `activitypub.render`, the data and the decision of
who may see it from `groups`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedgroups.activitypub import render
from fedgroups.activitypub.notes import replies_url
from fedgroups.errors import NotFound
from fedgroups.groups import collections, visibility
from fedgroups.groups.accounts import is_unapproved_signup
from fedgroups.groups.actors import INSTANCE_ACTOR_PATH, ensure_instance_actor, find_local_actor
from fedgroups.groups.directory import find_group
from fedgroups.models import ActorKind, Group
from fedgroups.settings import Settings
from fedgroups.web.group_pages import group_page
from fedgroups.web.negotiation import ActivityJSONResponse, reader_headers, wants_activity_json
from fedgroups.web.people import profile_page
from fedgroups.web.viewers import asker


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= 100_000:
        raise NotFound("no such page")
    return int(raw)


def group_profile(settings: Settings, group: Group) -> render.GroupProfile:
    actor = group.actor
    return render.GroupProfile(
        urls=render.ActorUrls.for_actor(actor.ap_id, settings.base_url),
        username=actor.username,
        domain=settings.domain,
        name=group.name,
        summary_html=group.summary,
        profile_url=actor.ap_id,
        published=group.created_at,
        is_private=group.is_private,
        public_key_pem=actor.public_key_pem,
    )


async def group_actor(request: Request) -> Response:
    settings = _settings(request)
    if not wants_activity_json(request):
        return await group_page(request, request.path_params["slug"])
    group = await find_group(request.path_params["slug"])
    # The actor document is always public, members-only or not: peers need its key.
    document = render.render_group_actor(group_profile(settings, group))
    return ActivityJSONResponse(document, headers={"Vary": "Accept"})


async def _paged_collection(
    request: Request,
    collection_id: str,
    count: Callable[[], Awaitable[int]],
    page_of: Callable[[int], Awaitable[collections.Page]],
    *,
    listable: bool = True,
    is_private: bool = False,
) -> Response:
    """The collection head, or one page of it. Unlistable collections show only their count."""
    headers = reader_headers(is_private=is_private)
    page = _page_number(request)
    if page is None:
        document = render.render_collection(collection_id, await count(), paged=listable)
        return ActivityJSONResponse(document, headers=headers)
    if not listable:
        raise NotFound("hidden")
    result = await page_of(page)
    return ActivityJSONResponse(
        render.render_collection_page(collection_id, page, result.items, has_next=result.has_next),
        headers=headers,
    )


async def _readable_group(request: Request) -> Group:
    """The group, if the asker may read its content (members-only: an approved member)."""
    group = await find_group(request.path_params["slug"])
    if not await visibility.can_read_content(group, asker(request)):
        raise NotFound("hidden")
    return group


async def group_outbox(request: Request) -> Response:
    group = await _readable_group(request)
    return await _paged_collection(
        request,
        f"{group.actor.ap_id}/outbox",
        lambda: collections.count_outbox(group),
        lambda page: collections.outbox_page(group, page),
        is_private=group.is_private,
    )


async def group_followers(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    return await _paged_collection(
        request,
        f"{group.actor.ap_id}/followers",
        lambda: collections.count_followers(group),
        lambda page: collections.followers_page(group, page),
        listable=await visibility.can_list_followers(group, asker(request)),
    )


async def _nothing() -> int:
    return 0


async def _no_page(page: int) -> collections.Page:
    return collections.Page(items=[], has_next=False)


async def group_following(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    return await _paged_collection(request, f"{group.actor.ap_id}/following", _nothing, _no_page)


async def group_featured(request: Request) -> Response:
    """Pinned posts (FEP-7aa9 / Mastodon `featured`); members-only groups pin for members."""
    group = await _readable_group(request)
    items = await collections.featured_ids(group)
    return ActivityJSONResponse(
        render.render_unpaged_collection(f"{group.actor.ap_id}/featured", items),
        headers=reader_headers(is_private=group.is_private),
    )


async def group_moderators(request: Request) -> Response:
    group = await find_group(request.path_params["slug"])
    collection_id = f"{group.actor.ap_id}/moderators"
    items = await collections.moderator_ids(group)
    if await visibility.can_list_moderators(group, asker(request)):
        document = render.render_unpaged_collection(collection_id, items)
    else:
        document = render.render_collection(collection_id, len(items), paged=False)
    return ActivityJSONResponse(document, headers=reader_headers(is_private=group.is_private))


async def post_replies(request: Request) -> Response:
    """Replies to a Note the group published, gated exactly like the Note itself (T64)."""
    group = await find_group(request.path_params["slug"])
    note_id = f"{group.actor.ap_id}/posts/{request.path_params['token']}"
    post = await visibility.visible_group_note(group, note_id, asker(request))
    if post is None:
        raise NotFound("no such post")
    return await _paged_collection(
        request,
        replies_url(note_id),
        lambda: collections.count_replies(group, post),
        lambda page: collections.replies_page(group, post, page),
        is_private=group.is_private,
    )


async def person_actor(request: Request) -> Response:
    settings = _settings(request)
    actor = await find_local_actor(settings, request.path_params["name"])
    if actor.kind != ActorKind.PERSON or await is_unapproved_signup(actor):
        raise NotFound("not a person")  # a sign-up waiting for approval is nobody yet
    if not wants_activity_json(request):
        return await profile_page(request, actor)
    document = render.render_person_actor(
        render.ActorUrls.for_actor(actor.ap_id, settings.base_url),
        actor.username,
        settings.domain,
        actor.display_name,
        actor.summary,
        actor.created_at,
        actor.public_key_pem,
    )
    return ActivityJSONResponse(document, headers={"Vary": "Accept"})


async def instance_actor(request: Request) -> Response:
    settings = _settings(request)
    actor = await ensure_instance_actor(settings)
    document = render.render_application_actor(
        actor.ap_id, settings.domain, settings.base_url, actor.public_key_pem
    )
    return ActivityJSONResponse(document, headers={"Cache-Control": "max-age=600"})


async def empty_outbox(request: Request) -> Response:
    collection_id = f"{_settings(request).base_url}{request.url.path}"
    return ActivityJSONResponse(render.render_collection(collection_id, 0))


routes = [
    Route(INSTANCE_ACTOR_PATH, instance_actor),
    Route(f"{INSTANCE_ACTOR_PATH}/outbox", empty_outbox),
    Route("/g/{slug}", group_actor),
    Route("/g/{slug}/outbox", group_outbox),
    Route("/g/{slug}/followers", group_followers),
    Route("/g/{slug}/following", group_following),
    Route("/g/{slug}/featured", group_featured),
    Route("/g/{slug}/moderators", group_moderators),
    Route("/g/{slug}/posts/{token}/replies", post_replies),
    Route("/u/{name}", person_actor),
    Route("/u/{name}/outbox", empty_outbox),
]
