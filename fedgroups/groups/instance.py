"""The instance's own description and rules, shown on its home page and edited by admins."""

from __future__ import annotations

from fedgroups.errors import ValidationError
from fedgroups.groups.admin_log import record_admin_action
from fedgroups.models import Actor, InstanceProfile, ModerationAction

MAX_DESCRIPTION = 5_000
MAX_RULES = 10_000


async def instance_profile() -> InstanceProfile:
    """The single profile row; an empty one until an admin writes it."""
    profile = await InstanceProfile.filter().order_by("id").first()
    return profile if profile is not None else InstanceProfile(description="", rules="")


async def update_instance_profile(description: str, rules: str, *, by: Actor | None = None) -> None:
    """Save the description and rules; a change of rules goes to the admins' log."""
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"Use at most {MAX_DESCRIPTION} characters.", field="description")
    if len(rules) > MAX_RULES:
        raise ValidationError(f"Use at most {MAX_RULES} characters.", field="rules")
    profile = await InstanceProfile.filter().order_by("id").first()
    if profile is None:
        profile = InstanceProfile(description="", rules="")
    rules_changed = profile.rules != rules.strip()
    profile.description, profile.rules = description.strip(), rules.strip()
    await profile.save()
    if rules_changed:
        await record_admin_action(ModerationAction.CHANGE_RULES, by, target="the instance's rules")
