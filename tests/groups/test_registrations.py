"""The registration mode: FEDGROUPS_REGISTRATIONS until an admin chooses, the database after."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedgroups.errors import ValidationError
from fedgroups.groups.accounts import RegistrationsClosed, sign_up
from fedgroups.groups.registrations import (
    parse_registration_mode,
    registration_mode,
    set_registration_mode,
)
from fedgroups.models import AccountState, ModerationEntry, RegistrationMode
from fedgroups.settings import Settings
from tests.conftest import make_settings


async def test_the_database_wins_over_the_initial_default(
    db: None, settings: Settings, tmp_path: Path
) -> None:
    closed = make_settings(settings.database_url, tmp_path / "c", FEDGROUPS_REGISTRATIONS="closed")
    assert await registration_mode(closed) == RegistrationMode.CLOSED
    with pytest.raises(RegistrationsClosed):
        await sign_up(closed, "lena", "correct horse battery")
    assert await set_registration_mode(closed, RegistrationMode.APPROVAL) == RegistrationMode.CLOSED
    assert await registration_mode(closed) == RegistrationMode.APPROVAL
    account = await sign_up(closed, "lena", "correct horse battery", "I need a quiet place")
    assert account.state == AccountState.PENDING
    await set_registration_mode(closed, RegistrationMode.APPROVAL)  # unchanged: not logged again
    assert await ModerationEntry.filter(group_id=None).count() == 1
    with pytest.raises(ValidationError):
        parse_registration_mode("sometimes")
