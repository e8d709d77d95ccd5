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
    "body", "state", "run_at", "created_at", "attempts", "last_error",
)  # fmt: skip


def _row(item: NewInboxItem) -> list[Any]:
    """Column values encoded by the model's own fields, exactly as `InboxItem.create` would."""
    given = {**item.__dict__, "created_at": item.run_at, "attempts": 0, "last_error": ""}
    fields_map = InboxItem._meta.fields_map
    return [fields_map[name].to_db_value(given[name], InboxItem) for name in _COLUMNS]


def _insert_sql(rows: int, dialect: str) -> str:
    width = len(_COLUMNS)
    if dialect == "postgres":
        marks = [f"${number}" for number in range(1, rows * width + 1)]
    else:
        marks = ["?"] * (rows * width)
    groups = (f"({', '.join(marks[i : i + width])})" for i in range(0, len(marks), width))
    return (
        f"INSERT INTO inbox_items ({', '.join(_COLUMNS)}) VALUES {', '.join(groups)} "  # noqa: S608
        "ON CONFLICT (activity_ap_id) DO NOTHING RETURNING id, activity_ap_id"
    )


async def insert_inbox_items(items: Sequence[NewInboxItem]) -> dict[str, int]:
    """Store `items` in one statement, one commit; those whose activity id is already stored
    (a replay, or a copy in the same statement) are skipped. Returns the new ids by activity id.
    """
    if not items:
        return {}
    connection = InboxItem._meta.db
    sql = _insert_sql(len(items), connection.capabilities.dialect)
    values = [value for item in items for value in _row(item)]
    rows = await connection.execute_query_dict(sql, values)
    return {str(row["activity_ap_id"]): int(row["id"]) for row in rows}
