"""The group flow, driven by two peer actors: follow, Accept, post, Announce, Delete, Undo.

alice and bob follow the group; alice posts mentioning it and bob's server must get the boost;
alice deletes the post and the boost must be withdrawn; alice unfollows and her next post must
not be boosted while bob's still is; bob deletes his account and leaves the followers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from conformance import activities
from conformance.http import Fetched
from conformance.peer import PUBLIC, Peer, PeerActor
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("flow")


async def _group(context: Context) -> dict[str, Any]:
    group = await context.actor()
    if group.get("manuallyApprovesFollowers") is True:
        raise Skipped(
            "members-only group: follows wait for a moderator; run the flow on an open group"
        )
    return group


def _flow(context: Context, needs: str | None = None) -> dict[str, Any]:
    flow: dict[str, Any] = context.state.setdefault("flow", {"following": set()})
    if needs is not None and needs not in flow:
        raise Skipped(f"needs an earlier flow step that did not pass ({needs})")
    return flow


def _expect_accepted(context: Context, response: Fetched, what: str) -> None:
    if not 200 <= response.status < 300:
        raise Failed(f"{what} {response.describe()}, expected 2xx{context.unreachable_hint()}")


async def _followers_total(context: Context) -> int | None:
    fetched = await context.http.get(await context.actor_field("followers"))
    if fetched.status != 200:
        return None
    total = fetched.json_object().get("totalItems")
    return total if isinstance(total, int) else None


async def _await_followers(context: Context, wanted: int) -> int | None:
    """Poll the follower count until it is `wanted` or the timeout passes; the last count seen."""
    deadline = time.monotonic() + context.options.timeout
    while True:
        total = await _followers_total(context)
        if total is None or total == wanted or time.monotonic() > deadline:
            return total
        await asyncio.sleep(0.2)


def _follow_cleanup(context: Context, actor: PeerActor, follow: dict[str, Any]) -> Any:
    async def undo() -> None:
        if actor.name in _flow(context)["following"]:
            undo_follow = activities.undo(context.peer, actor, follow)
            await context.peer.post(actor, await context.group_inbox(), undo_follow)

    return undo


def _check_accept(accept: dict[str, Any], follow: dict[str, Any], group_id: str) -> None:
    if accept.get("type") != "Accept":
        raise Failed(f"the group answered {follow['actor']}'s Follow with {accept.get('type')}")
    if accept.get("actor") != group_id:
        raise Failed(f"Accept actor is {accept.get('actor')!r}, not the group {group_id}")
    inner = accept.get("object")
    if not isinstance(inner, dict):
        raise Failed(
            f"Accept object is {inner!r}: embed the Follow (id, type, actor, object), "
            "as Mastodon, Lemmy and guppe-style consumers expect"
        )
    for key in ("id", "type", "actor", "object"):
        if inner.get(key) != follow[key]:
            raise Failed(f"the embedded Follow's {key} is {inner.get(key)!r}, not {follow[key]!r}")


@check(
    "flow.follow-accept",
    rule=(
        "Follow -> Accept{Follow embedded} by the group [M accept.rb; L following/accept.rs; "
        "FEP-1b12] (interop 4.1)"
    ),
)
async def follow_accept(context: Context) -> str:
    group = await _group(context)
    flow, peer = _flow(context), context.peer
    flow["before"] = await _followers_total(context)
    follows = {}
    for role in ("alice", "bob"):
        actor = peer.actor(role)
        follow = activities.follow(peer, actor, group["id"])
        _expect_accepted(
            context, await peer.post(actor, group["inbox"], follow), f"{role}'s Follow"
        )
        flow["following"].add(actor.name)
        context.state.setdefault("cleanup", []).append(_follow_cleanup(context, actor, follow))
        follows[role] = follow
    for role, follow in follows.items():
        answers = await peer.wait_for(activities.answers_follow(follow), context.options.timeout)
        if not answers:
            raise Failed(
                f"no Accept reached {role} within {context.options.timeout:g} s of a Follow"
            )
        _check_accept(answers[0].activity, follow, group["id"])
    flow["follows"] = follows
    return "both Follows got an Accept from the group with the Follow embedded"


@check(
    "flow.followers-count",
    rule="totalItems counts followers [M process_account_service.rb collection_info] (interop 5)",
)
async def followers_count(context: Context) -> str:
    flow = _flow(context, needs="follows")
    if flow["before"] is None:
        raise Skipped("the followers collection shows no totalItems")
    total = await _await_followers(context, flow["before"] + 2)
    if total != flow["before"] + 2:
        raise Failed(
            f"followers totalItems went from {flow['before']} to {total} after two Follows"
        )
    return f"totalItems {flow['before']} -> {total}"


async def _post(context: Context, actor: PeerActor, text: str) -> dict[str, Any]:
    group, peer = await context.actor(), context.peer
    note = activities.note_mentioning(peer, actor, group, context.options.handle, text)
    peer.publish(note)
    created = activities.create(actor, note)
    _expect_accepted(
        context,
        await peer.post(actor, await context.shared_inbox(), created),
        f"{actor.name}'s post",
    )
    return created


@check(
    "flow.announce",
    rule=(
        "a member's post mentioning the group is Announced to followers [FEP-1b12; G index.js; M "
        "announce.rb] (interop 4.3)"
    ),
)
async def announce(context: Context) -> str:
    flow, peer = _flow(context, needs="follows"), context.peer
    created = await _post(context, peer.actor("alice"), "a conformance check post, please ignore")
    note_id = created["object"]["id"]
    found = await peer.wait_for(
        activities.announces(note_id, created["id"]), context.options.timeout
    )
    if not found:
        raise Failed(
            f"no Announce of alice's post reached the peer within {context.options.timeout:g} s"
        )
    boost = found[0].activity
    group_id = (await context.actor())["id"]
    if boost.get("actor") != group_id:
        raise Failed(f"the Announce's actor is {boost.get('actor')!r}, not the group")
    to = boost.get("to") if isinstance(boost.get("to"), list) else [boost.get("to")]
    if PUBLIC not in to:
        raise Failed(f"a public post was announced with to={to}: Mastodon shows it as not public")
    flow["announce"], flow["note"] = boost, created["object"]
    style = "the Create" if isinstance(boost.get("object"), dict) else "the note id"
    return f"Announce {boost.get('id')} of {style} received"


@check(
    "flow.outbox", rule="the group's Announces are in its outbox [FEP-1b12; AP 5.1] (interop 4.3)"
)
async def outbox(context: Context) -> str:
    flow = _flow(context, needs="announce")
    fetched = await context.http.get(await context.actor_field("outbox"))
    collection = fetched.json_object() if fetched.status == 200 else {}
    first = collection.get("first")
    page = first if isinstance(first, dict) else None
    if isinstance(first, str):
        page = (await context.http.get(first)).json_object()
    items = (page or collection).get("orderedItems", (page or collection).get("items", []))
    wanted = (flow["announce"].get("id"), flow["note"]["id"])
    if not any(activities.ref(i) in wanted or activities.ref(_obj(i)) in wanted for i in items):
        raise Failed(f"the outbox's first page does not list the Announce {wanted[0]}")
    return "the Announce is on the outbox's first page"


def _obj(item: Any) -> Any:
    return item.get("object") if isinstance(item, dict) else None


@check(
    "flow.delete",
    rule=(
        "author's Delete withdraws the boost: Undo{Announce} or Announce{Delete} [M undo.rb; "
        "FEP-1b12] (interop 4.5)"
    ),
)
async def delete(context: Context) -> str:
    flow, peer = _flow(context, needs="announce"), context.peer
    alice, note = peer.actor("alice"), flow["note"]
    peer.unpublish(note["id"])  # fetching it now gives 404, as from Mastodon
    deletion = activities.delete_note(alice, note)
    _expect_accepted(
        context, await peer.post(alice, await context.shared_inbox(), deletion), "the Delete"
    )
    found = await peer.wait_for(
        activities.withdraws(flow["announce"], note["id"]), context.options.timeout
    )
    if not found:
        raise Failed(
            f"after the author deleted the post, no Undo of the Announce nor Announce of the "
            f"Delete reached the followers within {context.options.timeout:g} s"
        )
    return f"{found[0].activity.get('type')} received after the Delete"


@check(
    "flow.undo-follow",
    rule=(
        "Undo{Follow} ends membership, ex-members are not boosted [M undo.rb; AP 6.10; G "
        "index.js] (interop 4.1)"
    ),
)
async def undo_follow(context: Context) -> str:
    flow, peer = _flow(context, needs="follows"), context.peer
    alice, bob = peer.actor("alice"), peer.actor("bob")
    undo = activities.undo(peer, alice, flow["follows"]["alice"])
    _expect_accepted(context, await peer.post(alice, await context.group_inbox(), undo), "the Undo")
    flow["following"].discard(alice.name)
    if flow["before"] is not None:
        total = await _await_followers(context, flow["before"] + 1)
        if total != flow["before"] + 1:
            raise Failed(
                f"followers totalItems is {total} after alice's Undo, expected {flow['before'] + 1}"
            )
    late = await _post(context, alice, "posted after leaving, must not be boosted")
    sentinel = await _post(context, bob, "posted by a member, must be boosted")
    found = await peer.wait_for(
        activities.announces(sentinel["object"]["id"], sentinel["id"]), context.options.timeout
    )
    await asyncio.sleep(context.options.grace)
    leaked = [d for d in peer.deliveries
              if activities.announces(late["object"]["id"], late["id"])(d)]  # fmt: skip
    await _delete_posts(context, peer, [(alice, late), (bob, sentinel)])
    if leaked:
        raise Failed("the group still announced a post by alice after her Undo{Follow}")
    if not found:
        raise Failed("bob, still a member, was not boosted either: cannot tell Undo apart")
    return "membership ended: the ex-member's post was not boosted, the member's was"


async def _delete_posts(
    context: Context, peer: Peer, posts: list[tuple[PeerActor, dict[str, Any]]]
) -> None:
    """Leave the instance as found: the flow's other posts are deleted again (not judged)."""
    for actor, created in posts:
        peer.unpublish(created["object"]["id"])
        deletion = activities.delete_note(actor, created["object"])
        await peer.post(actor, await context.shared_inbox(), deletion)


@check(
    "flow.delete-actor",
    rule="Delete{actor} of a member removes the follower [M delete.rb delete_person] (interop 4.9)",
)
async def delete_actor(context: Context) -> str:
    flow, peer = _flow(context, needs="follows"), context.peer
    bob = peer.actor("bob")
    deletion = activities.delete_actor(bob)
    _expect_accepted(
        context, await peer.post(bob, await context.shared_inbox(), deletion), "the Delete"
    )
    peer.gone.add(bob.name)  # from now on the actor answers 410, as a deleted account does
    flow["following"].discard(bob.name)
    if flow["before"] is None:
        raise Skipped("the followers collection shows no totalItems")
    total = await _await_followers(context, flow["before"])
    if total != flow["before"]:
        raise Failed(
            f"followers totalItems is {total} after bob's account Delete, expected {flow['before']}"
        )
    return f"totalItems back to {total}"


@check(
    "flow.signatures",
    rule=(
        "every delivery is signed by its actor's key, verified by bovine [M "
        "process_activity_service.rb] (interop 3.5)"
    ),
)
async def signatures(context: Context) -> str:
    deliveries = context.peer.deliveries
    if not deliveries:
        raise Skipped("the instance delivered nothing to the peer")
    bad = [d for d in deliveries if not d.verified_as_actor]
    if bad:
        first = bad[0]
        signer = first.signer or "nobody (the signature did not verify)"
        raise Failed(
            f"{len(bad)} of {len(deliveries)} deliveries not signed by their actor: "
            f"{first.activity.get('type')} by {first.activity.get('actor')} signed by {signer}, "
            f"covering {first.signed} (bovine needs (request-target), date and digest covered)"
        )
    return f"all {len(deliveries)} deliveries verified by bovine as signed by their actor"
