"""A batch's posts, their Announces and their deliveries, written together at the batch's end.

Storing a member's post was three statements of its own (the post, the Announce in the outbox,
a row per inbox), each a round trip to the database and, on SQLite, a hand-off to its thread.
Within an inbox batch (`federation/batches.py`) they are kept here instead and written with one
multi-row INSERT per table for the whole batch, in the order the posts were taken, inside the
batch's transaction: they commit together with the items that produced them, or not at all.

What the batch reads must never miss what is waiting here, so the batch writes first whenever
an item could read it: before any item that is not a post, before a post that replies to or
repeats a waiting one (`concerns`), and before it settles. A post that needs a path writing
straight away raises `FlushFirst` while anything waits, so rows keep the order of their items.
Outside a batch nothing is deferred: `deferring()` is None and callers write as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from fedgroups.models.delivery import Delivery
from fedgroups.models.outbox_activity import OutboxActivity
from fedgroups.models.post import Post

# Bound parameters per statement: PostgreSQL allows 32,767, SQLite (3.32 and later) 32,766.
MAX_PARAMETERS = 30_000
DELIVERY_COLUMNS = tuple(
    (name, name)
    for name in (
        "activity_id", "inbox_url", "domain", "state", "run_at", "created_at", "attempts",
        "last_error",
    )
)  # fmt: skip

AfterWrite = Callable[[], Awaitable[None]]


class FlushFirst(Exception):
    """This item writes straight away: write what waits first, then run the item again."""


@dataclass
class _Announcement:
    """An activity to store, the post it depends on (if any), and its deliveries."""

    activity: OutboxActivity
    post: Post | None
    deliveries: list[tuple[str, str, str, datetime]]  # inbox, domain, state, run_at


@dataclass
class _Mark:
    posts: int
    announcements: int
    after: int


@dataclass
class WriteBehind:
    """Rows waiting to be written, in the order their items were processed."""

    posts: list[Post] = field(default_factory=list)
    announcements: list[_Announcement] = field(default_factory=list)
    after: list[AfterWrite] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _mark: _Mark | None = None

    def __bool__(self) -> bool:
        return bool(self.posts or self.announcements or self.after)

    # --- what an item adds ------------------------------------------------------------------

    def add_post(self, post: Post) -> None:
        """`post` (unsaved) is inserted at the flush; it gets its id then."""
        self.posts.append(post)
        self._ids.add(post.ap_id)
        if post.source_ap_id:
            self._ids.add(post.source_ap_id)

    def add_activity(self, activity: OutboxActivity, post: Post | None) -> _Announcement:
        """`activity` (unsaved); dropped with its deliveries if `post` turns out a duplicate."""
        announcement = _Announcement(activity, post, [])
        self.announcements.append(announcement)
        return announcement

    def add_deliveries(
        self, activity: OutboxActivity, rows: Iterable[tuple[str, str, str, datetime]]
    ) -> None:
        for announcement in reversed(self.announcements):
            if announcement.activity is activity:
                announcement.deliveries.extend(rows)
                return
        raise ValueError("deliveries for an activity that is not waiting to be written")

    def add_after(self, work: AfterWrite) -> None:
        """`work` runs right after the flush, once the rows have their ids (notifications)."""
        self.after.append(work)

    def holds(self, activity: OutboxActivity) -> bool:
        return any(waiting.activity is activity for waiting in self.announcements)

    # --- what the batch asks ------------------------------------------------------------------

    def concerns(self, ap_ids: Iterable[str]) -> bool:
        """Whether any of these ids is a waiting post's (a reply to it, or a repeat of it)."""
        return any(ap_id in self._ids for ap_id in ap_ids)

    def begin_item(self) -> None:
        self._mark = _Mark(len(self.posts), len(self.announcements), len(self.after))

    def drop_item(self) -> None:
        """The item failed: forget what it added (its own savepoint undid the rest)."""
        if self._mark is None:
            return
        del self.posts[self._mark.posts :]
        del self.announcements[self._mark.announcements :]
        del self.after[self._mark.after :]
        self._ids = {post.ap_id for post in self.posts} | {
            post.source_ap_id for post in self.posts if post.source_ap_id
        }
        self._mark = None

    async def flush(self) -> None:
        """Write everything waiting, in order, on the current transaction's connection."""
        posts, announcements, after = self.posts, self.announcements, self.after
        self.posts, self.announcements, self.after, self._ids = [], [], [], set()
        self._mark = None
        duplicates = await _insert_posts(posts)
        kept = [waiting for waiting in announcements if id(waiting.post) not in duplicates]
        await _insert_activities([waiting.activity for waiting in kept])
        await insert_deliveries(
            [(waiting.activity.pk, *row) for waiting in kept for row in waiting.deliveries]
        )
        for work in after:
            await work()


_active: ContextVar[WriteBehind | None] = ContextVar("fedgroups_write_behind", default=None)


def deferring() -> WriteBehind | None:
    """The batch's buffer when rows may wait in it; None where everything is written at once."""
    return _active.get()


@contextmanager
def writing_behind(buffer: WriteBehind | None) -> Iterator[None]:
    token = _active.set(buffer)
    try:
        yield
    finally:
        _active.reset(token)


# --- the statements ---------------------------------------------------------------------------


def _connection() -> BaseDBAsyncClient:
    return Post._meta.db


async def _insert(
    model: type[Model],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    tail: str = "",
) -> list[dict[str, Any]]:
    """Insert `rows` (values of `columns`, as (field, column) pairs); RETURNING rows.

    PostgreSQL gets one array per column, so every batch is the same statement, prepared once
    (a VALUES list of thousands of parameters was parsed and planned anew each time); SQLite
    gets VALUES lists, as few as its parameter limit allows.
    """
    if not rows:
        return []
    connection = _connection()
    returning = "RETURNING" in tail
    if connection.capabilities.dialect == "postgres":
        sql = _postgres_insert(model, tuple(columns), tail)
        values = [list(column) for column in zip(*rows, strict=True)]
        if returning:
            return list(await connection.execute_query_dict(sql, values))
        await connection.execute_query(sql, values)
        return []
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    one = f"({', '.join('?' * len(columns))})"
    returned: list[dict[str, Any]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = _head(model, columns) + ", ".join([one] * len(chunk)) + (f" {tail}" if tail else "")
        values = [value for row in chunk for value in row]
        if returning:
            returned.extend(await connection.execute_query_dict(sql, values))
        else:
            await connection.execute_query(sql, values)
    return returned


def _head(model: type[Model], columns: Sequence[tuple[str, str]]) -> str:
    # Table and column names come from the models, never from input; values are bound.
    names = ", ".join(column for _, column in columns)
    return f"INSERT INTO {model._meta.db_table} ({names}) VALUES "  # noqa: S608


@cache
def _postgres_insert(model: type[Model], columns: tuple[tuple[str, str], ...], tail: str) -> str:
    """INSERT ... SELECT FROM unnest($1::type[], ...): one statement for any number of rows."""
    fields_map = model._meta.fields_map
    arrays, picks = [], []
    for number, (name, _) in enumerate(columns, start=1):
        sql_type = fields_map[name].get_for_dialect("postgres", "SQL_TYPE")
        if sql_type.upper() == "JSONB":  # sent as the text tortoise encodes, parsed here
            arrays.append(f"${number}::text[]")
            picks.append(f"c{number}::jsonb")
        else:
            arrays.append(f"${number}::{sql_type}[]")
            picks.append(f"c{number}")
    aliases = ", ".join(f"c{number}" for number in range(1, len(columns) + 1))
    head = _head(model, columns).removesuffix("VALUES ")
    select = f"SELECT {', '.join(picks)} FROM unnest({', '.join(arrays)}) AS v({aliases})"  # noqa: S608 - names are ours
    return head + select + (f" {tail}" if tail else "")


def _model_row(instance: Model, columns: Sequence[tuple[str, str]]) -> list[Any]:
    """The instance's column values encoded as tortoise would encode them on save."""
    fields_map = instance._meta.fields_map
    return [fields_map[name].to_db_value(getattr(instance, name), instance) for name, _ in columns]


def _columns_of(model: type[Model]) -> list[tuple[str, str]]:
    """(field name, column) of every stored field but the generated primary key."""
    meta = model._meta
    return [
        (name, column) for name, column in meta.fields_db_projection.items() if name != meta.pk_attr
    ]


async def _insert_posts(posts: Sequence[Post]) -> set[int]:
    """Insert the posts, skipping any this group already holds (a copy stored meanwhile by
    another process); returns `id()` of the skipped ones."""
    skipped = await _insert_models(
        Post, posts, ("group_id", "ap_id"), conflict="ON CONFLICT (group_id, ap_id) DO NOTHING"
    )
    return {id(post) for post in skipped}


async def _insert_activities(activities: Sequence[OutboxActivity]) -> None:
    await _insert_models(OutboxActivity, activities, ("ap_id",))


async def _insert_models(
    model: type[Model], instances: Sequence[Model], key: tuple[str, ...], *, conflict: str = ""
) -> list[Model]:
    """Insert unsaved `instances` in one go and give each its id, matched by the columns of
    a unique `key`; returns those the database skipped (`conflict`)."""
    if not instances:
        return []
    columns = _columns_of(model)
    returned = await _insert(
        model,
        columns,
        [_model_row(instance, columns) for instance in instances],
        tail=f"{conflict} RETURNING id, {', '.join(key)}".strip(),
    )
    ids = {tuple(row[name] for name in key): int(row["id"]) for row in returned}
    skipped = []
    for instance in instances:
        pk = ids.pop(tuple(getattr(instance, name) for name in key), None)
        if pk is None:
            skipped.append(instance)
            continue
        instance.pk = pk
        instance._saved_in_db = True
    return skipped


async def insert_deliveries(rows: Sequence[tuple[int, str, str, str, datetime]]) -> None:
    """One row per (activity id, inbox, domain, state, run_at), skipping existing pairs."""
    await _insert(
        Delivery,
        DELIVERY_COLUMNS,
        [(*row, row[4], 0, "") for row in rows],
        tail="ON CONFLICT (activity_id, inbox_url) DO NOTHING",
    )
