"""Domain allows, the federation mode, and inbox items held for an admin (cautious mode)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault
from fedgroups.models.policy import FederationMode
from fedgroups.models.queue import JobState
from tortoise import fields


class DescribeEnumField(ops.AlterField):
    """A new JobState value changes only the enum's description: nothing to do in the
    database, and on SQLite an AlterField would rebuild the table and lose its indexes."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0007_posts_indexes_on_sqlite')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DomainAllow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('domain', fields.CharField(unique=True, max_length=255)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'domain_allows', 'app': 'models', 'pk_attr': 'id', 'table_description': "An admin's yes to a domain: listed in allowlist mode, let in by cautious mode."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InstancePolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('federation_mode', fields.CharEnumField(default=FederationMode.OPEN, description='OPEN: open\nALLOWLIST: allowlist\nCAUTIOUS: cautious', enum_type=FederationMode, max_length=16)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'instance_policy', 'app': 'models', 'pk_attr': 'id', 'table_description': "The instance's federation mode. A single row, made on first change."},
            bases=['Model'],
        ),
        DescribeEnumField(
            model_name='Delivery',
            name='state',
            field=fields.CharEnumField(default=JobState.QUEUED, description='QUEUED: queued\nRUNNING: running\nDONE: done\nIGNORED: ignored\nFAILED: failed\nPAUSED: paused\nHELD: held', enum_type=JobState, max_length=16),
        ),
        ops.AlterModelOptions(
            name='DomainBlock',
            options={'table': 'domain_blocks', 'app': 'models', 'pk_attr': 'id', 'table_description': "An admin's decision to stop (suspend) or restrict (limit) federating with a domain."},
        ),
        DescribeEnumField(
            model_name='InboxItem',
            name='state',
            field=fields.CharEnumField(default=JobState.QUEUED, description='QUEUED: queued\nRUNNING: running\nDONE: done\nIGNORED: ignored\nFAILED: failed\nPAUSED: paused\nHELD: held', enum_type=JobState, max_length=16),
        ),
        AddFieldWithDefault(
            model_name='InboxItem',
            name='domain',
            field=fields.CharField(default='', max_length=255),
        ),
    ]
