"""Restore the indexes of `posts` on SQLite.

Migration 0004 changed a column of `posts`; SQLite cannot alter a column in place, so the
table was rebuilt, and the rebuild dropped every index the model declares except the unique
one. PostgreSQL alters in place and keeps them. Group pages and post lookups by id scanned the
whole table without these.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

# (column, ...) of each index `fedgroups.models.Post` declares.
POST_INDEXES = [
    ("ap_id",), ("source_ap_id",), ("in_reply_to",), ("thread_root",), ("published_at",),
    ("group_id", "published_at"),
]  # fmt: skip


async def restore_post_indexes(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        return
    for columns in POST_INDEXES:
        name = "idx_posts_" + "_".join(columns)
        quoted = ", ".join(f'"{column}"' for column in columns)
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "posts" ({quoted})'
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0006_member_accounts_sessions_notifications")]

    initial = False

    operations = [ops.RunPython(restore_post_indexes, ops.RunPython.noop)]
