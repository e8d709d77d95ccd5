"""Activities accepted by an inbox: stored before we answer 202, processed later by a worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedgroups.models.queue import JobState, QueueFields


class InboxItem(QueueFields, Model):
    """One verified incoming activity. The unique `activity_ap_id` makes replays harmless."""

    id = fields.BigIntField(primary_key=True)
    activity_ap_id = fields.CharField(max_length=512, unique=True)
    activity_type = fields.CharField(max_length=32)
    actor_ap_id = fields.CharField(max_length=512, db_index=True)
    domain = fields.CharField(max_length=255, default="")  # the actor's, so held items are found
    signer_key_id = fields.CharField(max_length=512)
    recipient = fields.CharField(max_length=512, default="")  # inbox URL it arrived at
    body: dict[str, Any] = fields.JSONField()

    class Meta:
        table = "inbox_items"
        indexes = (("state", "run_at"),)


@dataclass(frozen=True)
class NewInboxItem:
    """An accepted activity about to be stored (the columns `insert_inbox_items` writes)."""

    activity_ap_id: str
    activity_type: str
    actor_ap_id: str
    domain: str
    signer_key_id: str
    recipient: str
    body: dict[str, Any]
    state: JobState
    run_at: datetime


_COLUMNS = (
    "activity_ap_id", "activity_type", "actor_ap_id", "domain", "signer_key_id", "recipient",
    "body", "state", "run_at",
)  # fmt: skip
_INSERT = f"INSERT INTO inbox_items ({', '.join(_COLUMNS)}, created_at, attempts, last_error) "
_ON_CONFLICT = "ON CONFLICT (activity_ap_id) DO NOTHING RETURNING id, activity_ap_id"
# PostgreSQL: one array per column, so every batch is the same statement (prepared once).
_POSTGRES_ROWS = (
    "SELECT a, t, ac, d, k, rc, b::jsonb, s, r, r, 0, '' FROM unnest($1::text[], $2::text[], "
    "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
    "$9::timestamptz[]) AS v(a, t, ac, d, k, rc, b, s, r) "
)


def _row(item: NewInboxItem) -> tuple[Any, ...]:
    """Column values encoded as the model's fields encode them (`InboxItem.create`)."""
    body = InboxItem._meta.fields_map["body"].to_db_value(item.body, InboxItem)
    return (
        item.activity_ap_id, item.activity_type, item.actor_ap_id, item.domain,
        item.signer_key_id, item.recipient, body, item.state.value, item.run_at,
    )  # fmt: skip


def _insert(rows: list[tuple[Any, ...]], dialect: str) -> tuple[str, list[Any]]:
    """The statement and its values: arrays on PostgreSQL, a VALUES list on SQLite."""
    if dialect == "postgres":
        columns = [list(column) for column in zip(*rows, strict=True)]
        return _INSERT + _POSTGRES_ROWS + _ON_CONFLICT, columns
    one = f"({', '.join('?' * len(_COLUMNS))}, ?, 0, '')"
    sql = _INSERT + f"VALUES {', '.join([one] * len(rows))} " + _ON_CONFLICT
    return sql, [value for row in rows for value in (*row, row[-1])]


async def insert_inbox_items(items: Sequence[NewInboxItem]) -> dict[str, int]:
    """Store `items` in one statement, one commit; those whose activity id is already stored
    (a replay, or a copy in the same statement) are skipped. Returns the new ids by activity id.
    """
    if not items:
        return {}
    connection = InboxItem._meta.db
    sql, values = _insert([_row(item) for item in items], connection.capabilities.dialect)
    rows = await connection.execute_query_dict(sql, values)
    return {str(row["activity_ap_id"]): int(row["id"]) for row in rows}
