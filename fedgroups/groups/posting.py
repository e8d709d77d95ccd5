"""Members' posts: validated, sanitised, stored and announced; their edits and deletions relayed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from fedgroups.activitypub.parse import ParsedPost
from fedgroups.federation.atomic import atomic
from fedgroups.federation.memo import is_remembering, recalled, remember
from fedgroups.groups.announcing import (
    announce,
    relay_activity,
    relay_removal,
    withdraw_announces,
)
from fedgroups.groups.content import plain_text, sanitize_html
from fedgroups.groups.membership import is_member
from fedgroups.groups.modlog import Acting, record
from fedgroups.groups.notifications import notify_held_post, notify_post
from fedgroups.groups.republish import (
    credited,
    group_reply_target,
    new_note_id,
    publish_note,
    publish_note_deletion,
    publish_note_update,
)
from fedgroups.groups.screening import Outcome, screen_post, screen_words
from fedgroups.models import Actor, Group, HeldPost, ModerationAction, Post
from fedgroups.models.post import live_copy, republished_copy
from fedgroups.models.write_behind import FlushFirst, deferring


def _published(post: ParsedPost) -> datetime:
    try:
        moment = datetime.fromisoformat(post.published.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_poll_vote(post: ParsedPost) -> bool:
    """A vote, as Mastodon sends it: a Note naming the option, no content, replying to the poll."""
    return post.kind == "Note" and bool(post.name) and not post.content and bool(post.in_reply_to)


async def thread_root_of(group: Group, in_reply_to: str) -> str | None:
    """The root of the thread a reply belongs to, if the group carries that thread."""
    if not in_reply_to:
        return None
    parent = await live_copy(group.pk, in_reply_to)
    if parent is None:
        return None
    return parent.thread_root or parent.ap_id


def _cleaned(post: ParsedPost) -> dict[str, Any]:
    """The fields we keep of a post, every one of them sanitised or bounded."""
    return {
        "object_type": post.kind,
        "name": plain_text(post.name, 512),
        "summary": plain_text(post.summary, 2_000),
        "content": sanitize_html(post.content),
        "url": post.url,
    }


@dataclass(frozen=True)
class Draft:
    """A member's post as the group will publish it: checked and sanitised, not yet stored.

    `fields` are the post's own (type, title, warning, HTML, url); `create` is the activity as
    received, which FEP-1b12 members get wrapped verbatim.
    """

    ap_id: str
    in_reply_to: str
    is_public: bool
    published_at: datetime
    fields: dict[str, Any]
    create: dict[str, Any] | None = None
    recipients: frozenset[str] = frozenset()  # who it addresses or mentions (notifications)

    @property
    def texts(self) -> tuple[str, ...]:
        """Everything it says, for the keyword rules."""
        return tuple(str(self.fields.get(key, "")) for key in ("name", "summary", "content"))


def draft_of(post: ParsedPost, create: dict[str, Any] | None = None) -> Draft:
    return Draft(
        ap_id=post.ap_id,
        in_reply_to=post.in_reply_to,
        is_public=post.is_public,
        published_at=_published(post),
        fields=_cleaned(post),
        create=create,
        recipients=post.recipients,
    )


# One read for both places a post can be: the replay check runs for every post received.
# `+group_id` keeps SQLite on the id indexes: on the group's index it read every post.
_CARRIED = (
    "SELECT 1 AS found FROM posts WHERE +group_id = {group} AND "
    "(ap_id = {ap_id} OR source_ap_id = {ap_id}) "
    "UNION ALL SELECT 1 FROM held_posts WHERE group_id = {group} AND ap_id = {ap_id} LIMIT 1"
)
# The same, read ahead for a batch's posts in every group at once (`recall_carried`): with
# no group to filter on, SQLite goes straight to the id indexes. `{among}` is one list of
# ids: an array on PostgreSQL, numbered parameters on SQLite, bound once for all three places.
_CARRIERS = (
    "SELECT group_id, ap_id, source_ap_id FROM posts "
    "WHERE ap_id {among} OR source_ap_id {among} "
    "UNION ALL SELECT group_id, ap_id, '' FROM held_posts WHERE ap_id {among}"
)
IDS_PER_READ = 500  # within any SQLite's limit of numbered parameters (999 before 3.32)


@dataclass
class _ReadAhead:
    """The groups that carried a post when its batch read ahead (`recall_carried`).

    Each group's answer is given once. A second ask for the same group comes from a second
    copy of the post later in the batch, and the first copy may have been carried since: the
    batch has written its waiting rows by then, so that ask goes to the database.
    """

    carriers: frozenset[int]
    answered: set[int] = field(default_factory=set)

    def take(self, group_id: int) -> bool | None:
        """Whether the group carried the post, the first time it is asked; None after."""
        if group_id in self.answered:
            return None
        self.answered.add(group_id)
        return group_id in self.carriers


async def recall_carried(ap_ids: Collection[str]) -> None:
    """Read ahead, for a batch, which groups already carry each of its posts: one query for
    the batch instead of a replay check per post."""
    wanted = sorted({ap_id for ap_id in ap_ids if ap_id})  # '' is every post's source id
    if not wanted or not is_remembering():
        return
    carriers: dict[str, set[int]] = {ap_id: set() for ap_id in wanted}
    for start in range(0, len(wanted), IDS_PER_READ):
        for row in await _carriers_of(wanted[start : start + IDS_PER_READ]):
            for ap_id in (row["ap_id"], row["source_ap_id"]):
                if ap_id in carriers:
                    carriers[ap_id].add(int(row["group_id"]))
    for ap_id, groups in carriers.items():
        remember(("carried", ap_id), _ReadAhead(frozenset(groups)))


async def _carriers_of(ap_ids: Sequence[str]) -> list[dict[str, Any]]:
    connection = Post._meta.db
    if connection.capabilities.dialect == "postgres":
        sql = _CARRIERS.format(among="= ANY($1::text[])")
        return list(await connection.execute_query_dict(sql, [list(ap_ids)]))
    among = "IN ({})".format(", ".join(f"?{number}" for number in range(1, len(ap_ids) + 1)))
    return list(await connection.execute_query_dict(_CARRIERS.format(among=among), list(ap_ids)))


async def is_carried(group: Group, ap_id: str) -> bool:
    """The group already holds this post: published, republished, or waiting for review.

    A batch's posts are answered from what it read ahead, each once (`_ReadAhead`).
    """
    ahead = recalled(("carried", ap_id))
    answer = ahead.take(group.pk) if isinstance(ahead, _ReadAhead) else None
    if answer is not None:
        return answer
    connection = Post._meta.db
    mark = "$" if connection.capabilities.dialect == "postgres" else "?"
    sql = _CARRIED.format(group=f"{mark}1", ap_id=f"{mark}2")
    return bool(await connection.execute_query_dict(sql, [group.pk, ap_id]))


async def is_locked(group: Group, thread_root: str) -> bool:
    return await Post.exists(group=group, ap_id=thread_root, locked_at__isnull=False)


async def receive_post(
    group: Group, author: Actor, post: ParsedPost, create: dict[str, Any] | None = None
) -> Post | None:
    """Take a member's post into the group; None when it is not (or not yet) published.

    A post is the group's when it addresses or mentions the group, or replies in a thread the
    group carries. Only approved members' posts are taken (guppe learned this the hard way),
    never replies in a locked thread, and the group's rules may hold or refuse it.
    `create` is the activity as received: FEP-1b12 members get it wrapped verbatim.
    """
    if is_poll_vote(post):
        return None  # votes are between voter and poll author: never redistributed
    root = await thread_root_of(group, post.in_reply_to)
    if group.actor.ap_id not in post.recipients and root is None:
        return None
    if not await is_member(group, author):
        return None
    if await is_carried(group, post.ap_id):
        return None  # a replay or a second copy: announced once only (T15)
    if root is not None and await is_locked(group, root):
        return None  # a moderator locked the thread: replies are no longer shared
    return (await take_post(group, author, draft_of(post, create))).post


@dataclass(frozen=True)
class Taken:
    """What became of a member's post: published (`post`), held for review, or refused."""

    outcome: Outcome
    post: Post | None = None


async def take_post(group: Group, author: Actor, draft: Draft) -> Taken:
    """Publish, hold or refuse a member's post, as the group's and instance's rules say."""
    verdict = await screen_post(group, author, *draft.texts)
    if verdict.outcome == Outcome.PUBLISH:
        return Taken(Outcome.PUBLISH, await publish_draft(group, author, draft))
    acting = Acting(reason=verdict.log_reason, is_automatic=True)
    async with in_transaction():
        if verdict.outcome == Outcome.HOLD:
            await HeldPost.create(
                group=group,
                author=author,
                ap_id=draft.ap_id,
                in_reply_to=draft.in_reply_to,
                is_public=draft.is_public,
                published_at=draft.published_at,
                create_activity=draft.create,
                reason=verdict.reason,
                **draft.fields,
            )
            await notify_held_post(group, author)
        action = (
            ModerationAction.HOLD_POST
            if verdict.outcome == Outcome.HOLD
            else ModerationAction.REJECT_POST
        )
        await record(group, action, acting, subject=author, object_ap_id=draft.ap_id)
    return Taken(verdict.outcome)


async def publish_draft(group: Group, author: Actor, draft: Draft) -> Post:
    """Store the post and announce it, or republish it as the group's own Note.

    A local member's post is always their own Note, served here at its id, which the group
    announces to its members alone when it is members-only (`writing.py`).
    """
    root = await thread_root_of(group, draft.in_reply_to)
    buffer = deferring()
    if not author.is_local and (group.is_private or not draft.is_public):
        # Mastodon cannot boost a followers-only or direct post, and the member meant it for
        # the group alone: the group says it in its own name, to its members only (interop 7).
        if buffer:
            raise FlushFirst  # it writes its post at once: after those waiting, not before
        return await _republish(group, author, draft, root)
    post = Post(
        ap_id=draft.ap_id,
        group=group,
        author=author,
        publisher=author,
        in_reply_to=draft.in_reply_to,
        thread_root=root or "",
        is_public=draft.is_public,
        published_at=draft.published_at,
        create_activity=draft.create,
        **draft.fields,
    )
    if buffer is not None:  # an inbox batch writes its posts together (write_behind.py)
        buffer.add_post(post)
        await announce(group, post)
        buffer.add_after(lambda: notify_post(group, post, draft.recipients))
        return post
    async with atomic():
        await post.save()
        await announce(group, post)
        await notify_post(group, post, draft.recipients)  # replies and mentions of locals
    return post


async def _republish(group: Group, author: Actor, draft: Draft, root: str | None) -> Post:
    """A members-only group posts the member's words as its own Note to its followers."""
    fields = dict(draft.fields)
    fields["content"] = credited(author, fields["content"])
    async with in_transaction():
        earlier = await _republished_meanwhile(group, draft.ap_id)
        if earlier is not None:
            return earlier  # the group has said it once: never twice to its members
        stored = await Post.create(
            ap_id=new_note_id(group),
            source_ap_id=draft.ap_id,
            group=group,
            author=author,
            publisher=group.actor,
            in_reply_to=await group_reply_target(group, draft.in_reply_to),
            thread_root=root or "",
            is_public=False,
            published_at=draft.published_at,
            **fields,
        )
        await publish_note(group, stored)
    return stored


# Republishing one source in one group, one process at a time (PostgreSQL): the second waits
# until the first commits, then finds its copy.
_REPUBLISHING_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"


async def _republished_meanwhile(group: Group, source_ap_id: str) -> Post | None:
    """The group's copy of `source_ap_id` if another process republished it after this
    post's replay check, which a batch reads ahead before its transaction begins.

    Read inside the transaction that will store the copy, serialised with every other
    writer's: SQLite's transactions hold the write lock from their first statement
    (`sqlite_backend.py`); on PostgreSQL an advisory lock on the group and the source is
    held until the transaction ends. A republished post has its own id, so no unique index
    on `ap_id` catches a second copy, as it does for a boost.
    """
    connection = Post._meta.db
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query(_REPUBLISHING_LOCK, [f"{group.pk} {source_ap_id}"])
    return await republished_copy(group.pk, source_ap_id)


async def _authored_copies(author: Actor, ap_id: str) -> list[Post]:
    """Every group's live copy of one of `author`'s posts (a post may be in several groups)."""
    return await Post.filter(
        Q(ap_id=ap_id) | Q(source_ap_id=ap_id), author=author, deleted_at=None
    ).select_related("group__actor", "author")


async def update_post(author: Actor, post: ParsedPost, update: dict[str, Any]) -> int:
    """The author edited their post: every group copy changes and the edit is relayed, unless
    a keyword rule of that group would hold or refuse the new text.

    A copy still waiting for review takes the edit too (a moderator reads it before sharing);
    FEP-1b12 members will be given the Update instead of the Create, which Lemmy-family
    software reads as the post itself.
    """
    await HeldPost.filter(author=author, ap_id=post.ap_id).update(
        create_activity=update, **_cleaned(post)
    )
    copies = await _authored_copies(author, post.ap_id)
    for stored in copies:
        if await _edit_refused(stored, _cleaned(post)):
            continue
        async with in_transaction():
            for name, value in _cleaned(post).items():
                setattr(stored, name, value)
            stored.updated_at = datetime.now(UTC)
            if stored.source_ap_id:  # republished by a members-only group
                stored.content = credited(author, stored.content)
                await stored.save()
                await publish_note_update(stored.group, stored)
            else:
                await stored.save()
                await relay_activity(stored.group, stored, update)
    return len(copies)


async def _edit_refused(stored: Post, fields: dict[str, Any]) -> bool:
    """An edit that a keyword rule would hold or refuse is not taken: the post stays as it
    was, and the log says so (otherwise posting "hello", then editing it, skips the rules)."""
    texts = (str(fields[key]) for key in ("name", "summary", "content"))
    verdict = await screen_words(stored.group, *texts)
    if verdict.outcome == Outcome.PUBLISH:
        return False
    acting = Acting(reason=f"an edit refused: {verdict.log_reason}", is_automatic=True)
    await record(
        stored.group, ModerationAction.REJECT_POST, acting,
        subject=stored.author, object_ap_id=stored.source_ap_id or stored.ap_id,
    )  # fmt: skip
    return True


async def delete_post(author: Actor, ap_id: str, delete: dict[str, Any] | None) -> int:
    """The author deleted their post: tombstoned here, boosts undone, the Delete relayed.

    A copy still waiting for review is simply dropped: nobody saw it.
    """
    withdrawn = await HeldPost.filter(author=author, ap_id=ap_id).delete()
    copies = await _authored_copies(author, ap_id)
    for stored in copies:
        async with in_transaction():
            await tombstone(stored)
            if stored.source_ap_id:
                await publish_note_deletion(stored.group, stored)
                continue
            await withdraw_announces(stored.group, stored)
            if delete is not None:
                await relay_activity(stored.group, stored, delete)
            else:
                await relay_removal(stored.group, stored)
    return len(copies) + withdrawn


async def tombstone(post: Post) -> None:
    # Nothing of what was said is kept: a support group's deleted post is gone.
    post.deleted_at = datetime.now(UTC)
    post.content = post.summary = post.name = ""
    post.create_activity = None
    await post.save()


async def remove_author_content(author: Actor) -> int:
    """A deleted account takes its posts with it, in every group; returns how many went."""
    ap_ids = await Post.filter(author=author, deleted_at=None).values_list("ap_id", flat=True)
    removed = 0
    for ap_id in dict.fromkeys(ap_ids):
        removed += await delete_post(author, str(ap_id), None)
    return removed
