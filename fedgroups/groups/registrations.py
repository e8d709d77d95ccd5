"""Who may sign up on the web: open, approval or closed, chosen by admins and kept in the database.

Until an admin chooses, FEDGROUPS_REGISTRATIONS (default `open`) is the initial mode, so an
instance configured with it before the setting moved here keeps what it had.
"""

from __future__ import annotations

from fedgroups.groups.admin_log import record_admin_action
from fedgroups.models import Actor, ModerationAction, RegistrationMode
from fedgroups.models.policy import instance_policy, parse_mode, save_instance_policy
from fedgroups.settings import Settings


async def registration_mode(settings: Settings) -> RegistrationMode:
    row = await instance_policy()
    if row is not None and row.registration_mode is not None:
        return row.registration_mode
    return RegistrationMode(settings.registrations)


def parse_registration_mode(value: str) -> RegistrationMode:
    return parse_mode(RegistrationMode, value, "registration mode")


async def set_registration_mode(
    settings: Settings, mode: RegistrationMode, *, by: Actor | None = None
) -> RegistrationMode:
    """Switch the mode (logged); returns the previous one. Pending sign-ups stay pending."""
    previous = await registration_mode(settings)
    await save_instance_policy(registration_mode=mode)
    if mode != previous:
        await record_admin_action(ModerationAction.REGISTRATION_MODE, by, target=mode.value)
    return previous
