"""Who may sign up on the web: open, approval or closed, chosen by admins and kept in the database.

Until an admin chooses, FEDGROUPS_REGISTRATIONS (default `open`) is the initial mode, so an
instance configured with it before the setting moved here keeps what it had.
"""

from __future__ import annotations

from fedgroups.errors import ValidationError
from fedgroups.groups.admin_log import record_admin_action
from fedgroups.models import Actor, InstancePolicy, ModerationAction, RegistrationMode
from fedgroups.settings import Settings


async def registration_mode(settings: Settings) -> RegistrationMode:
    row = await InstancePolicy.filter().order_by("id").first()
    if row is not None and row.registration_mode is not None:
        return row.registration_mode
    return RegistrationMode(settings.registrations)


def parse_registration_mode(value: str) -> RegistrationMode:
    try:
        return RegistrationMode(value.strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in RegistrationMode)
        raise ValidationError(f"the registration mode is one of {choices}") from None


async def set_registration_mode(
    settings: Settings, mode: RegistrationMode, *, by: Actor | None = None
) -> RegistrationMode:
    """Switch the mode (logged); returns the previous one. Pending sign-ups stay pending."""
    previous = await registration_mode(settings)
    row = await InstancePolicy.filter().order_by("id").first()
    if row is None:
        await InstancePolicy.create(registration_mode=mode)
    else:
        row.registration_mode = mode
        await row.save(update_fields=["registration_mode", "updated_at"])
    if mode != previous:
        await record_admin_action(ModerationAction.REGISTRATION_MODE, by, target=mode.value)
    return previous
