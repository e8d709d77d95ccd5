"""A change to a group's own row (name, rules, members-only or not, severed servers) bumps its
page stamp too, so a shared page is checked with one read of the stamps (see 0015)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

BUMP = (
    "INSERT INTO page_stamps (scope, stamp) VALUES ({target}, 1) "
    "ON CONFLICT (scope) DO UPDATE SET stamp = page_stamps.stamp + 1"
)


async def create_triggers(apps, schema_editor) -> None:
    client = schema_editor.client
    if schema_editor.DIALECT == "postgres":
        await client.execute_script('DROP TRIGGER IF EXISTS "page_stamps_groups" ON "groups"')
        await client.execute_script(
            'CREATE CONSTRAINT TRIGGER "page_stamps_groups" AFTER INSERT OR UPDATE OR DELETE '
            'ON "groups" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
            "EXECUTE FUNCTION page_stamps_bump('id')"
        )
        return
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        await client.execute_script(
            f'CREATE TRIGGER IF NOT EXISTS "page_stamps_groups_{event.lower()}" '
            f'AFTER {event} ON "groups" FOR EACH ROW '
            f"BEGIN {BUMP.format(target=f'{row}.id')}; END"
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0015_page_stamps')]

    initial = False

    operations = [ops.RunPython(create_triggers, ops.RunPython.noop)]
