"""Groups remember which of their members' servers the federation policy cut off, for their page."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_posts_pinned_and_thread_indexes')]

    initial = False

    operations = [
        AddFieldWithDefault(
            model_name='Group',
            name='severed_domains',
            field=fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
