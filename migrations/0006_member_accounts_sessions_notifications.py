from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault
from fedgroups.models.account import AccountState
from fedgroups.models.notification import NotificationKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_remote_groups')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InstanceProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('description', fields.TextField(default='', unique=False)),
                ('rules', fields.TextField(default='', unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'instance_profile', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single row, edited by admins. Plain text, shown escaped.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='REPLY: reply\nMENTION: mention\nAPPROVED: approved\nREJECTED: rejected\nJOIN_REQUEST: join_request', enum_type=NotificationKind, max_length=16)),
                ('actor', fields.ForeignKeyField('models.Actor', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='caused_notifications', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'models', 'indexes': [Index(fields=['account_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'One notice for one account. The page asks visibility again before showing any post.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One logged-in browser. The cookie holds a random token, the table only its SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ThrottleHit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bucket', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'throttle_hits', 'app': 'models', 'indexes': [Index(fields=['bucket', 'key', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One counted attempt (a failed login, a sign-up) under a bucket and a key (IP, account).'},
            bases=['Model'],
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='bio',
            field=fields.TextField(default='', unique=False),
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='pronouns',
            field=fields.CharField(default='', max_length=64),
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='signup_reason',
            field=fields.TextField(default='', unique=False),
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='state',
            field=fields.CharEnumField(default=AccountState.ACTIVE, description='ACTIVE: active\nPENDING: pending\nREJECTED: rejected', enum_type=AccountState, max_length=16),
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='time_zone',
            field=fields.CharField(default='UTC', max_length=64),
        ),
        AddFieldWithDefault(
            model_name='Group',
            name='join_questions',
            field=fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
        AddFieldWithDefault(
            model_name='Membership',
            name='join_answers',
            field=fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
