from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault
from fedgroups.models.moderation import KeywordAction, ModerationAction
from fedgroups.models.report import ReportState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_domain_allows_federation_mode_held_items')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HeldPost',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='held_posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.Actor', source_field='author_id', db_constraint=True, to_field='id', related_name='held_posts', on_delete=OnDelete.CASCADE)),
                ('ap_id', fields.CharField(max_length=512)),
                ('object_type', fields.CharField(default='Note', max_length=16)),
                ('in_reply_to', fields.CharField(default='', max_length=512)),
                ('name', fields.CharField(default='', max_length=512)),
                ('summary', fields.TextField(default='', unique=False)),
                ('content', fields.TextField(default='', unique=False)),
                ('url', fields.CharField(default='', max_length=512)),
                ('is_public', fields.BooleanField(default=True)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('create_activity', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'held_posts', 'app': 'models', 'unique_together': (('group', 'ap_id'),), 'pk_attr': 'id', 'table_description': "A member's post waiting for a moderator, exactly as it would be published."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='KeywordRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='keyword_rules', on_delete=OnDelete.CASCADE)),
                ('phrase', fields.CharField(max_length=100)),
                ('action', fields.CharEnumField(default=KeywordAction.HOLD, description='HOLD: hold\nREJECT: reject', enum_type=KeywordAction, max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'keyword_rules', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A word or phrase that holds or rejects a post: in one group, or (no group) everywhere.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModerationEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='moderation_entries', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='APPOINT_MODERATOR: appoint_moderator\nDISMISS_MODERATOR: dismiss_moderator\nHOLD_POST: hold_post\nAPPROVE_POST: approve_post\nREJECT_POST: reject_post\nREMOVE_POST: remove_post\nLOCK_THREAD: lock_thread\nUNLOCK_THREAD: unlock_thread\nBAN: ban\nUNBAN: unban\nDISMISS_REPORT: dismiss_report\nFORWARD_REPORT: forward_report\nCHANGE_RULES: change_rules', enum_type=ModerationAction, max_length=24)),
                ('moderator', fields.ForeignKeyField('models.Actor', source_field='moderator_id', null=True, db_constraint=True, to_field='id', related_name='moderation_done', on_delete=OnDelete.SET_NULL)),
                ('is_automatic', fields.BooleanField(default=False)),
                ('subject', fields.ForeignKeyField('models.Actor', source_field='subject_id', null=True, db_constraint=True, to_field='id', related_name='moderation_received', on_delete=OnDelete.SET_NULL)),
                ('object_ap_id', fields.CharField(default='', max_length=512)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'moderation_entries', 'app': 'models', 'indexes': [Index(fields=['group_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One line of a group's moderation log: who did what to whom, when, and why."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('reporter', fields.ForeignKeyField('models.Actor', source_field='reporter_id', null=True, db_constraint=True, to_field='id', related_name='reports_made', on_delete=OnDelete.SET_NULL)),
                ('reported_actor', fields.ForeignKeyField('models.Actor', source_field='reported_actor_id', null=True, db_constraint=True, to_field='id', related_name='reports_about', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('comment', fields.TextField(default='', unique=False)),
                ('flag_ap_id', fields.CharField(default='', db_index=True, max_length=512)),
                ('state', fields.CharEnumField(default=ReportState.OPEN, description='OPEN: open\nRESOLVED: resolved\nDISMISSED: dismissed', enum_type=ReportState, max_length=16)),
                ('resolution', fields.TextField(default='', unique=False)),
                ('resolved_by', fields.ForeignKeyField('models.Actor', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='reports_resolved', on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('forwarded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reports', 'app': 'models', 'pk_attr': 'id', 'table_description': "One report to one group's moderators and the instance admins."},
            bases=['Model'],
        ),
        AddFieldWithDefault(
            model_name='Group',
            name='review_first_posts',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Membership',
            name='rules_accepted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Post',
            name='locked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
