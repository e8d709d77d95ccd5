"""Handle rules: Mastodon's USERNAME_RE, a length cap and reserved words."""

from __future__ import annotations

import pytest

from fedgroups.errors import ValidationError
from fedgroups.groups.names import validate_name


@pytest.mark.parametrize(
    "name", ["recovery", "grief_circle", "new-parents", "a.b", "Parents2", "x"]
)
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-lead",
        "trail-",
        ".dot",
        "with space",
        "ümlaut",
        "a/b",
        "a@b",
        "x" * 31,
        "admin",
        "Inbox",
    ],
)
def test_invalid_names_raise_one_clear_line(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_name(name, what="group name")
    assert "\n" not in str(caught.value)
    assert "group name" in str(caught.value)
