"""Whether a group's page rendered earlier still shows what is stored.

A page's version is the group's page stamp and the instance-wide one, which the database
bumps with every change to what the page shows (`models/page_stamp`), the group's own row
included. Read the version *before* what the page shows: a page rendered from newer data
than its version is only ever thrown away too early, never kept too long.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedgroups.models import PageStamp

# Written out, not built per request: for a page already rendered, this read is the page.
_VERSION = (
    "SELECT g.id AS group_id, a.gone_at AS gone_at, "
    "(SELECT stamp FROM page_stamps WHERE scope = g.id) AS group_stamp, "
    "(SELECT stamp FROM page_stamps WHERE scope = 0) AS instance_stamp "
    "FROM groups g JOIN actors a ON a.id = g.actor_id WHERE g.slug = {mark}"
)


@dataclass(frozen=True)
class PageVersion:
    group_id: int
    group_stamp: int
    instance_stamp: int


async def page_version(slug: str) -> PageVersion | None:
    """The version of the page of the group `slug` names, or None if no such group is live."""
    connection = PageStamp._meta.db
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    _, rows = await connection.execute_query(_VERSION.format(mark=mark), [slug.lower()])
    if not rows or rows[0]["gone_at"] is not None:
        return None
    row = rows[0]
    return PageVersion(
        int(row["group_id"]), int(row["group_stamp"] or 0), int(row["instance_stamp"] or 0)
    )
