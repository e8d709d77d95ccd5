"""Migration operations of our own, for what tortoise's built-in ones get wrong on upgrades.

A NOT NULL column added by `AddField` carries no database default, so the upgrade of any
instance that already has rows in that table fails ("Cannot add a NOT NULL column with default
value NULL" on SQLite, "contains null values" on PostgreSQL), although a fresh database
migrates fine. `AddFieldWithDefault` writes the field's Python default into the column
definition, so existing rows get it; the migration state is AddField's own, so the models and
migrations still compare equal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.fields.base import Field
from tortoise.migrations import operations as ops


class AddFieldWithDefault(ops.AddField):
    """`AddField` for a NOT NULL column with a default: existing rows take that default."""

    async def database_forward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        if not state_editor:
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        field: Field[Any] = model._meta.fields_map[self.name]
        unset = field.db_default
        default = field.default() if callable(field.default) else field.default
        field.db_default = default
        try:
            await state_editor.add_field(model, self.name)
        finally:
            field.db_default = unset


IndexList = list[tuple[str, tuple[str, ...]]]


def restore_sqlite_indexes(indexes: IndexList) -> Callable[[Any, Any], Awaitable[None]]:
    """A `RunPython` step that creates `indexes` again, as (table, columns), on SQLite only.

    Changing the choices of an enum column rebuilds its table on SQLite, and the rebuild drops
    the table's indexes; PostgreSQL alters the column in place and keeps them.
    """

    async def restore(apps: Any, schema_editor: Any) -> None:
        if schema_editor.DIALECT != "sqlite":
            return
        for table, columns in indexes:
            name = f"idx_{table}_" + "_".join(columns)
            quoted = ", ".join(f'"{column}"' for column in columns)
            await schema_editor.client.execute_script(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({quoted})'
            )

    return restore
