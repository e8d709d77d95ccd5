"""Instance administration: account suspensions with a reason, the registration mode in the
database, and the admins' own actions in the moderation log.

Changing the choices of an enum column rebuilds its table on SQLite, and the rebuild drops the
table's indexes (see 0007): they are created again after it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

from fedgroups.migration_ops import AddFieldWithDefault, restore_sqlite_indexes
from fedgroups.models.moderation import ModerationAction
from fedgroups.models.policy import RegistrationMode
from tortoise import fields

INDEXES = [("moderation_entries", ("group_id", "created_at"))]


class Migration(migrations.Migration):
    dependencies = [('models', '0010_report_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='suspended_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddFieldWithDefault(
            model_name='Account',
            name='suspension_reason',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AlterModelOptions(
            name='InstancePolicy',
            options={'table': 'instance_policy', 'app': 'models', 'pk_attr': 'id', 'table_description': "The instance's federation and registration modes. A single row, made on first change."},
        ),
        ops.AddField(
            model_name='InstancePolicy',
            name='registration_mode',
            field=fields.CharEnumField(null=True, description='OPEN: open\nAPPROVAL: approval\nCLOSED: closed', enum_type=RegistrationMode, max_length=16),
        ),
        ops.AlterField(
            model_name='ModerationEntry',
            name='action',
            field=fields.CharEnumField(description='APPROVE_MEMBER: approve_member\nREJECT_MEMBER: reject_member\nAPPOINT_MODERATOR: appoint_moderator\nDISMISS_MODERATOR: dismiss_moderator\nHOLD_POST: hold_post\nAPPROVE_POST: approve_post\nREJECT_POST: reject_post\nREMOVE_POST: remove_post\nLOCK_THREAD: lock_thread\nUNLOCK_THREAD: unlock_thread\nBAN: ban\nUNBAN: unban\nDISMISS_REPORT: dismiss_report\nFORWARD_REPORT: forward_report\nCHANGE_RULES: change_rules\nBLOCK_DOMAIN: block_domain\nUNBLOCK_DOMAIN: unblock_domain\nALLOW_DOMAIN: allow_domain\nDISALLOW_DOMAIN: disallow_domain\nDENY_DOMAIN: deny_domain\nFEDERATION_MODE: federation_mode\nREGISTRATION_MODE: registration_mode\nSUSPEND_ACCOUNT: suspend_account\nUNSUSPEND_ACCOUNT: unsuspend_account', enum_type=ModerationAction, max_length=24),
        ),
        ops.RunPython(restore_sqlite_indexes(INDEXES), ops.RunPython.noop),
    ]
