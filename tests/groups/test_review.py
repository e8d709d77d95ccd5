"""Keyword rules and pre-moderation hold or refuse posts; moderators release or drop them."""

from __future__ import annotations

import pytest

from fedgroups.activitypub.parse import parse_post
from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.domains import block_domain
from fedgroups.groups.intake import configure_group
from fedgroups.groups.moderation import ban
from fedgroups.groups.moderators import appoint_moderator
from fedgroups.groups.modlog import Acting, log_lines
from fedgroups.groups.posting import delete_post, update_post
from fedgroups.groups.review import (
    approve_held_post,
    find_held_post,
    held_posts,
    reject_held_post,
)
from fedgroups.groups.screening import add_keyword, keyword_rules, remove_keyword
from fedgroups.models import BlockSeverity, HeldPost, KeywordAction, ModerationAction, Post
from fedgroups.settings import Settings
from tests.factories import make_group
from tests.groups.moderation_support import make_circle, note, post_by, sent, wrapped


async def test_keyword_rules_hold_or_reject_whole_words(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await add_keyword(circle.group, "Pills", KeywordAction.HOLD)
    await add_keyword(None, "buy now", KeywordAction.REJECT)  # every group on the instance
    assert await post_by(circle, circle.rosa, 1, content="<p>about the spillsway</p>")
    assert await post_by(circle, circle.rosa, 2, content="<p>my PILLS ran out</p>") is None
    assert await post_by(circle, circle.rosa, 3, summary="Buy  NOW", content="<p>x</p>") is None
    [held] = await held_posts(circle.group)
    assert held.ap_id.endswith("/notes/2")
    assert held.reason == 'group keyword rule "pills"'  # moderators see which rule
    assert await Post.filter(group=circle.group).count() == 1
    entries = await log_lines(circle.group)
    assert [(e.action, e.by, e.reason) for e in entries[:2]] == [
        (ModerationAction.REJECT_POST, "automatic", "instance keyword rule"),
        (ModerationAction.HOLD_POST, "automatic", "group keyword rule"),
    ]
    assert all("pills" not in entry.reason for entry in entries)  # members never learn the word
    # Only the post that went through was ever announced.
    boosted = [a["object"] for a in await sent("Announce") if isinstance(a["object"], str)]
    assert boosted == [f"{circle.rosa.ap_id}/notes/1"]


async def test_rejecting_wins_and_rules_can_be_changed(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await add_keyword(circle.group, "spam", KeywordAction.HOLD)
    await add_keyword(circle.group, "SPAM", KeywordAction.REJECT)  # same phrase: action changes
    await add_keyword(circle.group, "scam", KeywordAction.HOLD)
    assert [(r.phrase, r.action) for r in await keyword_rules(circle.group)] == [
        ("spam", KeywordAction.REJECT),
        ("scam", KeywordAction.HOLD),
    ]
    assert await post_by(circle, circle.rosa, 1, content="<p>scam and spam</p>") is None
    assert await HeldPost.all().count() == 0
    await remove_keyword(circle.group, "Spam")
    with pytest.raises(NotFound):
        await remove_keyword(circle.group, "spam")
    with pytest.raises(ValidationError):
        await add_keyword(circle.group, "   ", KeywordAction.HOLD)
    assert await keyword_rules(None) == []


async def test_posts_from_a_limited_server_wait_for_review(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await block_domain("peer.test", reason="spam waves", severity=BlockSeverity.LIMIT)
    assert await post_by(circle, circle.rosa, 1, content="<p>hello</p>") is None
    assert await post_by(circle, circle.mastodon, 2, content="<p>hello</p>") is not None
    [held] = await held_posts(circle.group)
    assert held.reason == "a post from peer.test, a server the admins limited"
    assert (await log_lines(circle.group))[0].reason == "post from a limited server"
    await approve_held_post(circle.group, held)
    assert await Post.filter(group=circle.group).count() == 2


async def test_new_members_first_posts_wait_then_flow(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await configure_group(circle.group, review_first_posts=2)
    await appoint_moderator(circle.group, circle.lemmy)
    assert await post_by(circle, circle.lemmy, 1) is not None  # moderators skip the queue
    assert await post_by(circle, circle.rosa, 1) is None
    assert await post_by(circle, circle.rosa, 2) is None
    first, second = await held_posts(circle.group)
    assert first.reason == "a new member's post (1 of 2)"
    published = await approve_held_post(circle.group, first, Acting(moderator=circle.owner))
    assert published.ap_id == first.ap_id
    assert await Post.exists(ap_id=first.ap_id)
    # Announced as usual: the id to microblogs, the Create verbatim to group software.
    assert [a["object"] for a in await sent("Announce") if a["object"] == first.ap_id]
    [create] = [
        a["object"]
        for a in wrapped(await sent(), "Create")
        if a["object"]["object"]["id"] == first.ap_id
    ]
    assert create["id"] == f"{first.ap_id}/activity"
    await reject_held_post(circle.group, second)
    assert await HeldPost.all().count() == 0
    assert not await Post.exists(ap_id=second.ap_id)
    assert await post_by(circle, circle.rosa, 3) is None  # one published: one more waits
    assert await post_by(circle, circle.rosa, 4) is None
    held = await held_posts(circle.group)
    await approve_held_post(circle.group, held[0])
    assert await post_by(circle, circle.rosa, 5) is not None  # two published: through
    actions = [entry.action for entry in await log_lines(circle.group)]
    assert actions.count(ModerationAction.APPROVE_POST) == 2
    assert actions.count(ModerationAction.REJECT_POST) == 1


async def test_members_only_groups_republish_approved_posts(db: None, settings: Settings) -> None:
    circle = await make_circle(settings, private=True)
    await configure_group(circle.group, review_first_posts=1)
    assert await post_by(circle, circle.rosa, 1) is None
    held = await find_held_post(circle.group, (await held_posts(circle.group))[0].id)
    post = await approve_held_post(circle.group, held)
    assert post.source_ap_id == f"{circle.rosa.ap_id}/notes/1"
    assert post.publisher_id == circle.group.actor_id  # type: ignore[attr-defined]
    [create] = await sent("Create")
    assert create["actor"] == circle.group.actor.ap_id


async def test_edits_deletions_and_bans_reach_the_queue(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    await configure_group(circle.group, review_first_posts=5)
    for number in (1, 2, 3):
        assert await post_by(circle, circle.rosa, number) is None
    assert await post_by(circle, circle.mastodon, 1) is None
    edited = note(circle.group, circle.rosa, 1, content="<p>edited<script>x</script></p>")
    update = {"id": "https://peer.test/updates/1", "type": "Update", "object": edited}
    await update_post(circle.rosa, parse_post(edited), update)
    first = await HeldPost.get(ap_id=edited["id"])
    assert first.content == "<p>edited</p>"
    assert first.create_activity == update
    assert await delete_post(circle.rosa, f"{circle.rosa.ap_id}/notes/2", None) == 1
    await ban(circle.group, circle.rosa)
    assert [held.author_id for held in await HeldPost.all()] == [circle.mastodon.pk]  # type: ignore[attr-defined]


async def test_a_reply_in_a_locked_thread_is_not_taken(db: None, settings: Settings) -> None:
    from fedgroups.groups.moderation import lock_thread, unlock_thread

    circle = await make_circle(settings)
    root = await post_by(circle, circle.rosa, 1)
    assert root is not None
    await lock_thread(circle.group, root)
    reply = {"inReplyTo": root.ap_id, "to": [], "cc": []}
    assert await post_by(circle, circle.lemmy, 2, **reply) is None
    await unlock_thread(circle.group, root)
    assert await post_by(circle, circle.lemmy, 3, **reply) is not None


async def test_configuring_a_group_logs_what_changed(db: None, settings: Settings) -> None:
    group = await make_group(settings, "grief")
    await configure_group(group, rules="Be kind.\nNo advice unless asked.", review_first_posts=3)
    await configure_group(group, rules="Be kind.\nNo advice unless asked.")  # no change
    assert group.review_first_posts == 3
    [entry] = await log_lines(group)
    assert entry.reason == "changed the rules; new members' first 3 posts wait for review"
    with pytest.raises(ValidationError):
        await configure_group(group, review_first_posts=-1)


async def test_an_edit_does_not_slip_past_the_keyword_rules(db: None, settings: Settings) -> None:
    circle = await make_circle(settings)
    post = await post_by(circle, circle.rosa, 1, content="<p>hello all</p>")
    assert post is not None
    await add_keyword(None, "buy now", KeywordAction.REJECT)
    edited = note(circle.group, circle.rosa, 1, content="<p>BUY NOW cheap pills</p>")
    update = {"id": "https://peer.test/updates/1", "type": "Update", "object": edited}
    await update_post(circle.rosa, parse_post(edited), update)
    assert (await Post.get(pk=post.pk)).content == "<p>hello all</p>"  # kept as it was
    assert wrapped(await sent(), "Update") == []  # the edit is not relayed
    [entry, *_] = await log_lines(circle.group)
    assert (entry.action, entry.by, entry.reason) == (
        ModerationAction.REJECT_POST,
        "automatic",
        "an edit refused: instance keyword rule",
    )
    fine = note(circle.group, circle.rosa, 1, content="<p>hello everyone</p>")
    await update_post(circle.rosa, parse_post(fine), {**update, "id": "https://peer.test/u/2"})
    assert (await Post.get(pk=post.pk)).content == "<p>hello everyone</p>"
