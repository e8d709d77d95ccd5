"""How many times what a group's page shows has changed, counted by the database itself.

Triggers (migration 0015) bump a group's row in the same transaction as every change to its
posts or memberships, and row 0 when something every page may show changes: an actor's name,
the domain blocks and allows, the federation mode. No code writes these rows, so no process
can miss one: a page rendered after reading the stamps stays current while they are unchanged.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

INSTANCE_WIDE = 0  # the row for changes that may show on any group's page (0 in SQL too)


class PageStamp(Model):
    scope = fields.IntField(primary_key=True, generated=False)  # a group's id, or 0
    stamp = fields.BigIntField(default=0)

    class Meta:
        table = "page_stamps"
