"""Settings: the contract's variables, defaults, one-line errors and the generated secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedgroups.errors import ConfigError
from fedgroups.settings import Settings, Timing


def test_defaults_match_the_operator_contract() -> None:
    settings = Settings.from_env({})
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.domain == "127.0.0.1:8000"
    assert settings.database_url == "sqlite://data/fedgroups.sqlite3"
    assert settings.data_dir == Path("data")
    assert settings.allow_private_peers is False
    assert settings.workers == 1
    assert settings.timing == Timing()  # production waits unless a test shortens them


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "FEDGROUPS_BASE_URL": "https://Groups.Example/",
            "FEDGROUPS_DATABASE_URL": "postgresql://u:p@db:5432/fg",
            "FEDGROUPS_DATA_DIR": "/srv/fg",
            "FEDGROUPS_SECRET_KEY": "k" * 40,
            "FEDGROUPS_ALLOW_PRIVATE_PEERS": "1",
            "FEDGROUPS_WORKERS": "4",
        }
    )
    assert settings.base_url == "https://groups.example"
    assert settings.database_url == "postgres://u:p@db:5432/fg"
    assert settings.data_dir == Path("/srv/fg")
    assert settings.secret_key == "k" * 40
    assert settings.allow_private_peers is True
    assert settings.workers == 4


def test_test_timing_shortens_only_what_it_names() -> None:
    timing = Settings.from_env({"FEDGROUPS_TEST_TIMING": "delivery_lease=2, retry_base=0.1"}).timing
    assert (timing.delivery_lease, timing.retry_base) == (2.0, 0.1)
    assert timing.delivery_deadline == Timing().delivery_deadline == 30.0


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("FEDGROUPS_BASE_URL", "ftp://x", "http(s) origin"),
        ("FEDGROUPS_BASE_URL", "https://x.example/sub", "bare origin"),
        ("FEDGROUPS_BASE_URL", "https://x.example:99999", "bad port"),
        ("FEDGROUPS_DATABASE_URL", "mysql://x", "sqlite:// or postgres://"),
        ("FEDGROUPS_ALLOW_PRIVATE_PEERS", "maybe", "0 or 1"),
        ("FEDGROUPS_WORKERS", "many", "whole number"),
        ("FEDGROUPS_WORKERS", "-1", "between 0 and 64"),
        ("FEDGROUPS_TEST_TIMING", "lease=2", "unknown name"),
        ("FEDGROUPS_TEST_TIMING", "delivery_lease=soon", "must be seconds"),
        ("FEDGROUPS_TEST_TIMING", "retry_base=0", "must be positive"),
    ],
)
def test_bad_values_give_one_line_errors(name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message
    assert name in message or name == "FEDGROUPS_DATABASE_URL"


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"FEDGROUPS_DATA_DIR": str(tmp_path / "d")})
    first = settings.with_secret_key()
    second = Settings.from_env({"FEDGROUPS_DATA_DIR": str(tmp_path / "d")}).with_secret_key()
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("FEDGROUPS_WORKERS=3\nFEDGROUPS_BASE_URL=https://from-file.example\n")
    monkeypatch.setenv("FEDGROUPS_BASE_URL", "https://from-env.example")
    settings = Settings.from_env(dotenv_path=dotenv)
    assert settings.workers == 3
    assert settings.base_url == "https://from-env.example"
