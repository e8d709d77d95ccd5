"""Notifications telling members that the admins stopped (or started again) federating with a
server: which server, and the reason the admins gave.

Changing the choices of an enum column rebuilds its table on SQLite, and the rebuild drops the
table's indexes (see 0007, 0010 and 0011): they are created again after it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault, restore_sqlite_indexes
from fedgroups.models.notification import NotificationKind
from tortoise import fields

INDEXES = [
    ("notifications", ("account_id", "read_at")),
    ("notifications", ("created_at",)),
]


class Migration(migrations.Migration):
    dependencies = [('models', '0011_suspensions_registration_mode_admin_log')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Notification',
            name='kind',
            field=fields.CharEnumField(description='REPLY: reply\nMENTION: mention\nAPPROVED: approved\nREJECTED: rejected\nJOIN_REQUEST: join_request\nREPORT: report\nREPORT_OUTCOME: report_outcome\nPOST_HELD: post_held\nDEFEDERATED: defederated\nREFEDERATED: refederated', enum_type=NotificationKind, max_length=16),
        ),
        AddFieldWithDefault(
            model_name='Notification',
            name='detail',
            field=fields.TextField(default='', unique=False),
        ),
        AddFieldWithDefault(
            model_name='Notification',
            name='domain',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.RunPython(restore_sqlite_indexes(INDEXES), ops.RunPython.noop),
    ]
