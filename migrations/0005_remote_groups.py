from tortoise import migrations
from tortoise.migrations import operations as ops
from fedgroups.models.subscription import GroupSubscriptionState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_posts_unique_per_group')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GroupSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor', fields.ForeignKeyField('models.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='group_subscriptions', on_delete=OnDelete.CASCADE)),
                ('group_actor', fields.ForeignKeyField('models.Actor', source_field='group_actor_id', db_constraint=True, to_field='id', related_name='local_subscribers', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(default=GroupSubscriptionState.PENDING, description='PENDING: pending\nACCEPTED: accepted\nREJECTED: rejected\nREMOVED: removed\nBANNED: banned\nLEFT: left', enum_type=GroupSubscriptionState, max_length=16)),
                ('follow_ap_id', fields.CharField(default='', db_index=True, max_length=512)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'group_subscriptions', 'app': 'models', 'unique_together': (('actor', 'group_actor'),), 'pk_attr': 'id', 'table_description': "A local person's Follow of a remote group: joining a group that lives elsewhere."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RemoteGroupPost',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ap_id', fields.CharField(db_index=True, max_length=512)),
                ('group_actor', fields.ForeignKeyField('models.Actor', source_field='group_actor_id', db_constraint=True, to_field='id', related_name='carried_posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.Actor', source_field='author_id', db_constraint=True, to_field='id', related_name='remote_group_posts', on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(default='Note', max_length=16)),
                ('in_reply_to', fields.CharField(default='', db_index=True, max_length=512)),
                ('thread_root', fields.CharField(default='', db_index=True, max_length=512)),
                ('name', fields.CharField(default='', max_length=512)),
                ('summary', fields.TextField(default='', unique=False)),
                ('content', fields.TextField(default='', unique=False)),
                ('source', fields.TextField(default='', unique=False)),
                ('url', fields.CharField(default='', max_length=512)),
                ('is_public', fields.BooleanField(default=True)),
                ('announce_ap_id', fields.CharField(default='', db_index=True, max_length=512)),
                ('announced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'remote_group_posts', 'app': 'models', 'unique_together': (('group_actor', 'ap_id'),), 'indexes': [Index(fields=['group_actor_id', 'published_at'])], 'pk_attr': 'id', 'table_description': 'A post in a remote group, as this instance knows it.'},
            bases=['Model'],
        ),
    ]
