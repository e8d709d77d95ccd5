from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_post_sources')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Post',
            name='ap_id',
            field=fields.CharField(db_index=True, max_length=512),
        ),
        ops.AddConstraint(
            model_name='Post',
            constraint=UniqueConstraint(fields=('group', 'ap_id'), name=None),
        ),
    ]
