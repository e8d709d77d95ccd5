"""Throwaway databases: a fresh SQLite file or PostgreSQL database per figure, dropped after."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

BACKENDS = ("sqlite", "postgres")
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("FEDGROUPS_BENCH_POSTGRES", DEFAULT_POSTGRES)


async def postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(postgres_admin_url(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def migrate(database_url: str, data_dir: Path) -> None:
    """Create the schema the way an operator does: `fedgroups migrate`."""
    env = {
        **os.environ,
        "FEDGROUPS_DATABASE_URL": database_url,
        "FEDGROUPS_DATA_DIR": str(data_dir),
    }
    subprocess.run(
        [sys.executable, "-m", "fedgroups.cli", "migrate"],
        env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def throwaway(backend: str, scratch: Path, name: str) -> AsyncIterator[str]:
    """Yield the URL of a new, migrated database; drop it (or delete the file) afterwards."""
    if backend == "sqlite":
        path = scratch / f"{name}.sqlite3"
        for leftover in scratch.glob(f"{name}.sqlite3*"):
            leftover.unlink()
        url = f"sqlite://{path}"
        migrate(url, scratch)
        try:
            yield url
        finally:
            for leftover in scratch.glob(f"{name}.sqlite3*"):
                leftover.unlink()
        return
    database = f"fedgroups_bench_{os.getpid()}_{name}".replace("-", "_")
    admin = await asyncpg.connect(postgres_admin_url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = _with_database(postgres_admin_url(), database)
    try:
        migrate(url, scratch)
        yield url
    finally:
        admin = await asyncpg.connect(postgres_admin_url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
