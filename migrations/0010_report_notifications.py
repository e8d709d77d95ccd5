"""Notifications about reports and held posts, and the moderation log's join decisions.

Changing the choices of an enum column rebuilds its table on SQLite, and the rebuild drops the
table's indexes (see 0007): they are created again after it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import restore_sqlite_indexes
from fedgroups.models.moderation import ModerationAction
from fedgroups.models.notification import NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields

# (table, columns) of each index the models declare on the rebuilt tables.
INDEXES = [
    ("notifications", ("account_id", "read_at")),
    ("notifications", ("created_at",)),
    ("moderation_entries", ("group_id", "created_at")),
]


class Migration(migrations.Migration):
    dependencies = [('models', '0009_moderation_reports_held_posts_keywords')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ModerationEntry',
            name='action',
            field=fields.CharEnumField(description='APPROVE_MEMBER: approve_member\nREJECT_MEMBER: reject_member\nAPPOINT_MODERATOR: appoint_moderator\nDISMISS_MODERATOR: dismiss_moderator\nHOLD_POST: hold_post\nAPPROVE_POST: approve_post\nREJECT_POST: reject_post\nREMOVE_POST: remove_post\nLOCK_THREAD: lock_thread\nUNLOCK_THREAD: unlock_thread\nBAN: ban\nUNBAN: unban\nDISMISS_REPORT: dismiss_report\nFORWARD_REPORT: forward_report\nCHANGE_RULES: change_rules', enum_type=ModerationAction, max_length=24),
        ),
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='REPLY: reply\nMENTION: mention\nAPPROVED: approved\nREJECTED: rejected\nJOIN_REQUEST: join_request\nREPORT: report\nREPORT_OUTCOME: report_outcome\nPOST_HELD: post_held', enum_type=NotificationKind, max_length=16),
        ),
        ops.AddField(
            model_name='Notification',
            name='report',
            field=fields.ForeignKeyField('models.Report', source_field='report_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.RunPython(restore_sqlite_indexes(INDEXES), ops.RunPython.noop),
    ]
