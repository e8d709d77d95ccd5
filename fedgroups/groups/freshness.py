"""Whether a group's page rendered earlier still shows what is stored.

A page's version is the group's own row (with its actor's) as this request read it, and the
page stamps the database bumps with every change to what the page shows (`models/page_stamp`).
Read the version *before* what the page shows: a page rendered from newer data than its
version is only ever thrown away too early, never kept too long.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.models import Model

from fedgroups.models import Group, PageStamp
from fedgroups.models.page_stamp import INSTANCE_WIDE


@dataclass(frozen=True)
class PageVersion:
    columns: str  # the group's and its actor's, as read for this request
    group_stamp: int
    instance_stamp: int


def _columns(row: Model) -> tuple[object, ...]:
    return tuple(getattr(row, name) for name in sorted(row._meta.db_fields))


# Written out, not built per request: this read is most of what a shared page costs.
_STAMPS = "SELECT scope, stamp FROM page_stamps WHERE scope IN (0, {mark})"


async def page_version(group: Group) -> PageVersion:
    """The version of what `group`'s page shows now, in every process sharing the database."""
    connection = PageStamp._meta.db
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    _, rows = await connection.execute_query(_STAMPS.format(mark=mark), [group.pk])
    stamps = {int(row["scope"]): int(row["stamp"]) for row in rows}
    columns = repr((_columns(group), _columns(group.actor)))
    return PageVersion(columns, stamps.get(group.pk, 0), stamps.get(INSTANCE_WIDE, 0))
