"""Page stamps: the database counts the changes a group's page shows (`models/page_stamp.py`).

Triggers, so that every writer is counted whatever process or code path it is: posts and
memberships bump their group's row; actors' names and the domain policy bump row 0. On
PostgreSQL the bump is a deferred constraint trigger: it runs at commit, so concurrent
transactions posting to one group wait on its row for the commit only.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# (table, column holding the group's id or None for row 0, trigger condition on UPDATE or None)
WATCHED = [
    ("posts", "group_id", None),
    ("memberships", "group_id", None),
    ("domain_blocks", None, None),
    ("domain_allows", None, None),
    ("instance_policy", None, None),
    (
        "actors",
        None,
        "OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.username IS DISTINCT FROM "
        "NEW.username OR OLD.domain IS DISTINCT FROM NEW.domain OR OLD.url IS DISTINCT FROM "
        "NEW.url OR OLD.is_local IS DISTINCT FROM NEW.is_local",
    ),
]
BUMP = (
    "INSERT INTO page_stamps (scope, stamp) VALUES ({target}, 1) "
    "ON CONFLICT (scope) DO UPDATE SET stamp = page_stamps.stamp + 1"
)
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION page_stamps_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target integer := 0;
BEGIN
    IF TG_NARGS > 0 THEN
        IF TG_OP = 'DELETE' THEN
            target := (to_jsonb(OLD) ->> TG_ARGV[0])::integer;
        ELSE
            target := (to_jsonb(NEW) ->> TG_ARGV[0])::integer;
        END IF;
    END IF;
    INSERT INTO page_stamps (scope, stamp) VALUES (target, 1)
    ON CONFLICT (scope) DO UPDATE SET stamp = page_stamps.stamp + 1;
    RETURN NULL;
END $$
"""


def _sqlite_triggers(table, column, condition):
    sqlite_condition = (condition or "").replace("IS DISTINCT FROM", "IS NOT")
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        if condition and event != "UPDATE":
            continue
        target = f"{row}.{column}" if column else "0"
        when = f" WHEN {sqlite_condition}" if condition else ""
        yield (
            f'CREATE TRIGGER IF NOT EXISTS "page_stamps_{table}_{event.lower()}" '
            f'AFTER {event} ON "{table}" FOR EACH ROW{when} '
            f"BEGIN {BUMP.format(target=target)}; END"
        )


def _postgres_triggers(table, column, condition):
    events = "UPDATE" if condition else "INSERT OR UPDATE OR DELETE"
    when = f" WHEN ({condition})" if condition else ""
    argument = f"'{column}'" if column else ""
    yield f'DROP TRIGGER IF EXISTS "page_stamps_{table}" ON "{table}"'
    yield (
        f'CREATE CONSTRAINT TRIGGER "page_stamps_{table}" AFTER {events} ON "{table}" '
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{when} "
        f"EXECUTE FUNCTION page_stamps_bump({argument})"
    )


async def create_triggers(apps, schema_editor) -> None:
    client = schema_editor.client
    if schema_editor.DIALECT == "postgres":
        await client.execute_script(POSTGRES_FUNCTION)
        make = _postgres_triggers
    else:
        make = _sqlite_triggers
    for table, column, condition in WATCHED:
        for statement in make(table, column, condition):
            await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0014_group_severed_domains')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageStamp',
            fields=[
                ('scope', fields.IntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('stamp', fields.BigIntField(default=0)),
            ],
            options={'table': 'page_stamps', 'app': 'models', 'pk_attr': 'scope'},
            bases=['Model'],
        ),
        ops.RunPython(create_triggers, ops.RunPython.noop),
    ]
