"""Instance settings, read once from the environment (and a `.env` file) and passed in.

Nothing else in the package reads the environment, so tests can run several instances
side by side in one process with different settings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from fedgroups.errors import ConfigError

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_DATA_DIR = "data"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
REGISTRATION_MODES = ("open", "approval", "closed")


@dataclass(frozen=True)
class Timing:
    """How long the worker waits for things, in seconds: production values by default.

    Tests that drive real processes shorten them with the test-only variable
    FEDGROUPS_TEST_TIMING (`delivery_lease=2,retry_base=0.2`), so a killed worker's jobs
    come back and failed deliveries are retried within seconds. It is not part of the
    operator contract: production instances leave it unset.
    """

    inbox_lease: float = 300.0  # processing may fetch a few remote documents
    delivery_lease: float = 120.0  # well above delivery_deadline
    delivery_deadline: float = 30.0  # a whole attempt, both signature knocks (T71)
    retry_base: float = 30.0  # the first retry's wait, doubled on each failure
    retry_cap: float = 6 * 3600.0  # no wait longer than this
    poll_interval: float = 0.2  # the first idle wait before looking for work again …
    poll_max: float = 1.0  # … doubled while idle, up to this (notify() wakes workers at once)
    probe_interval: float = 300.0  # how often unavailable peers are probed


TEST_TIMING_VARIABLE = "FEDGROUPS_TEST_TIMING"


@dataclass(frozen=True)
class Settings:
    """Everything an instance needs to know about its configuration."""

    base_url: str
    database_url: str
    data_dir: Path
    secret_key: str
    allow_private_peers: bool
    workers: int
    # open: anyone signs up; approval: an admin approves each sign-up; closed: nobody can.
    registrations: str = "open"
    timing: Timing = field(default_factory=Timing)

    @property
    def domain(self) -> str:
        """host[:port] of the instance: the part after the @ in handles."""
        return urlsplit(self.base_url).netloc

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv_path: Path | None = None
    ) -> Settings:
        """Build settings from `environ` (default: the process environment plus `./.env`).

        Raises ConfigError with a one-line message on the first bad value.
        """
        env = dict(_read_dotenv(dotenv_path or Path(".env"))) if environ is None else {}
        env.update(os.environ if environ is None else environ)
        data_dir = Path(env.get("FEDGROUPS_DATA_DIR", DEFAULT_DATA_DIR))
        return cls(
            base_url=_parse_base_url(env.get("FEDGROUPS_BASE_URL", DEFAULT_BASE_URL)),
            database_url=_parse_database_url(
                env.get("FEDGROUPS_DATABASE_URL", f"sqlite://{data_dir}/fedgroups.sqlite3")
            ),
            data_dir=data_dir,
            secret_key=env.get("FEDGROUPS_SECRET_KEY", ""),
            allow_private_peers=_parse_bool(
                "FEDGROUPS_ALLOW_PRIVATE_PEERS", env.get("FEDGROUPS_ALLOW_PRIVATE_PEERS", "0")
            ),
            workers=_parse_count("FEDGROUPS_WORKERS", env.get("FEDGROUPS_WORKERS", "1")),
            registrations=_parse_mode(env.get("FEDGROUPS_REGISTRATIONS", "open")),
            timing=_parse_timing(env.get(TEST_TIMING_VARIABLE, "")),
        )

    def with_secret_key(self) -> Settings:
        """Return settings whose secret key is set, generating one into the data dir once.

        Kept out of `from_env` so that reading settings never writes to disk by surprise.
        """
        if self.secret_key:
            return self
        path = self.data_dir / SECRET_KEY_FILE
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
            key = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot use data dir {self.data_dir}: {exc.strerror}") from exc
        if len(key) < 32:
            raise ConfigError(f"secret key in {path} is too short (need 32+ characters)")
        return replace(self, secret_key=key)


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _parse_base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"FEDGROUPS_BASE_URL must be an http(s) origin, got {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"FEDGROUPS_BASE_URL must be a bare origin with no path, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"FEDGROUPS_BASE_URL has a bad port: {value!r}") from None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _parse_database_url(value: str) -> str:
    if value.startswith("postgresql://"):
        value = "postgres://" + value.removeprefix("postgresql://")
    if not value.startswith(("sqlite://", "postgres://", "asyncpg://")):
        raise ConfigError(
            f"FEDGROUPS_DATABASE_URL must start with sqlite:// or postgres://, got {value!r}"
        )
    return value


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {value!r}")


def _parse_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in REGISTRATION_MODES:
        raise ConfigError(
            f"FEDGROUPS_REGISTRATIONS must be open, approval or closed, got {value!r}"
        )
    return mode


def _parse_count(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if not 0 <= number <= 64:
        raise ConfigError(f"{name} must be between 0 and 64, got {number}")
    return number


def _parse_timing(value: str) -> Timing:
    """`name=seconds` pairs, comma-separated, over the defaults of `Timing`."""
    known = {spec.name for spec in fields(Timing)}
    chosen: dict[str, float] = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        name, _, number = pair.partition("=")
        name = name.strip()
        if name not in known:
            raise ConfigError(f"{TEST_TIMING_VARIABLE}: unknown name {name!r}")
        try:
            seconds = float(number)
        except ValueError:
            raise ConfigError(f"{TEST_TIMING_VARIABLE}: {name} must be seconds") from None
        if not 0 < seconds < 10**7:
            raise ConfigError(f"{TEST_TIMING_VARIABLE}: {name} must be positive")
        chosen[name] = seconds
    return Timing(**chosen)
