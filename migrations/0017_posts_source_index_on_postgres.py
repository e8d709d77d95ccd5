"""Create the index on `posts.source_ap_id` on PostgreSQL.

The model declares it (`db_index=True`) since migration 0003, but the operation that added the
column with a default did not create it there; SQLite got it back in 0007. Without it every
lookup of a post by id in either place (`ap_id = x OR source_ap_id = x`: the replay check,
thread lookups, edits and deletions of a member's post) read the whole table on PostgreSQL.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


async def create_source_index(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "postgres":
        return
    await schema_editor.client.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_posts_source_ap_id" ON "posts" ("source_ap_id")'
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0016_page_stamps_group_rows")]

    initial = False

    operations = [ops.RunPython(create_source_index, ops.RunPython.noop)]
