from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_open_deliveries_by_inbox')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Post',
            name='create_activity',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        AddFieldWithDefault(
            model_name='Post',
            name='source_ap_id',
            field=fields.CharField(default='', db_index=True, max_length=512),
        ),
    ]
