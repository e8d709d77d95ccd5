"""The inbox: verify, check origins, persist, answer. Nothing else happens in the request.

An activity is acknowledged (202) only after its InboxItem is committed, so nothing accepted
is ever lost; processing happens later in a worker (federation/dispatch.py). Concurrent
requests share their commits (federation/inbox_writer.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fedgroups.activitypub.parse import same_origin
from fedgroups.errors import FetchError, MalformedActivity, OriginMismatch, SignatureError
from fedgroups.federation.context import Federation
from fedgroups.federation.fetch import parse_document
from fedgroups.federation.peers import mark_domain_heard
from fedgroups.federation.signatures import authenticate, signature_plan
from fedgroups.models import Actor, JobState, Standing
from fedgroups.models.inbox_item import NewInboxItem

MAX_BODY_BYTES = 512 * 1024
MAX_ID_LENGTH = 512  # of activity, actor and key ids: the columns that store them
MAX_DOMAIN_LENGTH = 255


@dataclass(frozen=True)
class Accepted:
    """Why the inbox answered 202: stored, a replay, or dropped on purpose."""

    outcome: str  # "stored" | "held" | "duplicate" | "blocked" | "unknown-actor-delete"
    item_id: int | None = None


def _actor_id(activity: dict[str, Any]) -> str:
    actor = activity.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    if not isinstance(actor, str) or not actor.startswith(("https://", "http://")):
        raise MalformedActivity("activity has no actor id")
    if len(actor) > MAX_ID_LENGTH or len(_key_domain(actor)) > MAX_DOMAIN_LENGTH:
        raise MalformedActivity("actor id is too long")
    return actor


def _activity_fields(activity: dict[str, Any]) -> tuple[str, str]:
    activity_id, kind = activity.get("id"), activity.get("type")
    if not isinstance(activity_id, str) or not activity_id.startswith(("https://", "http://")):
        raise MalformedActivity("activity has no id")
    if not isinstance(kind, str) or not kind:
        raise MalformedActivity("activity has no type")
    if len(activity_id) > MAX_ID_LENGTH:
        raise MalformedActivity("activity id is too long")
    return activity_id, kind[:32]


def _key_domain(key_id: str) -> str:
    return urlsplit(key_id).netloc.lower()


def _is_self_delete(activity: dict[str, Any], actor_id: str) -> bool:
    target = activity.get("object")
    target = target.get("id") if isinstance(target, dict) else target
    return activity.get("type") == "Delete" and target == actor_id


async def receive_activity(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    federation: Federation,
) -> Accepted:
    """Verify and store one POSTed activity. Raises the error the caller maps to a status."""
    activity = _parsed(body)
    activity_id, kind = _activity_fields(activity)
    actor_id = _actor_id(activity)
    if _is_self_delete(activity, actor_id) and not await _is_known(actor_id):
        # Account deletions flood every server; an actor we never knew needs no work
        # (Mastodon and guppe drop these without fetching the key).
        return Accepted("unknown-actor-delete")
    if not any(name.lower() == "signature" for name in headers):
        raise SignatureError("request is not signed")
    plan = signature_plan(method, url, headers, body)  # no key needed yet: nothing fetched
    key_id = plan.key_id
    if len(key_id) > MAX_ID_LENGTH:
        raise SignatureError("keyId is too long")
    actor_domain = _key_domain(actor_id)
    domains = (_key_domain(key_id), actor_domain)
    policy = await federation.policy_reads.policy_for(domains, health_of=[actor_domain])
    standings = {policy.standing(domain) for domain in domains}
    if Standing.REFUSED in standings:
        # Suspended, or outside the allowlist: dropped before any key fetch (T13).
        return Accepted("blocked")
    verified = await authenticate(plan, federation.remote_actors.resolve_key)
    if verified.owner != actor_id:
        raise SignatureError("the signer is not the activity's actor")
    if not same_origin(activity_id, actor_id):
        raise OriginMismatch("activity id is on another origin than its actor")
    if actor_domain in policy.unavailable:  # it speaks to us, so it is up: resume its queue
        await mark_domain_heard(actor_domain)
    # Cautious mode: a server not seen before is verified and kept, but waits for an admin.
    held = Standing.PENDING in standings
    item = _new_item(activity, activity_id, kind, actor_id, verified.key_id, url, held=held)
    # No read before the insert: the unique activity id decides, also between racing copies.
    new_id = await federation.inbox_writer.store(item)
    if new_id is None:  # a replay, or a concurrent copy that won (T15, T18)
        return Accepted("duplicate")
    return Accepted("held" if held else "stored", new_id)


def _parsed(body: bytes) -> dict[str, Any]:
    try:
        activity = parse_document(body)
    except FetchError as exc:
        raise MalformedActivity(str(exc)) from None
    if b"\\u0000" in body:  # PostgreSQL text cannot hold NUL characters (T32)
        raise MalformedActivity("NUL characters are not accepted")
    return activity


def _new_item(
    activity: dict[str, Any],
    activity_id: str,
    kind: str,
    actor_id: str,
    key_id: str,
    url: str,
    *,
    held: bool,
) -> NewInboxItem:
    return NewInboxItem(
        activity_ap_id=activity_id,
        activity_type=kind,
        actor_ap_id=actor_id,
        domain=_key_domain(actor_id),
        signer_key_id=key_id,
        recipient=url[:MAX_ID_LENGTH],
        body=activity,
        state=JobState.HELD if held else JobState.QUEUED,
        run_at=datetime.now(UTC),
    )


async def _is_known(actor_id: str) -> bool:
    return await Actor.exists(ap_id=actor_id)
