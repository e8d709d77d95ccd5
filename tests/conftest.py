"""Shared fixtures: a real database per test, on SQLite and (when reachable) PostgreSQL.

Tests that take `settings`, `db`, `app` or `client` run once per database backend. The
PostgreSQL tier uses a throwaway database created for this run and dropped after it; set
FEDGROUPS_TEST_POSTGRES to a server URL (`make test` does) and FEDGROUPS_REQUIRE_POSTGRES=1 to
fail rather than skip that tier when the server cannot be reached (CI does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from fedgroups.app import create_app
from fedgroups.db import bind_context, database, migrate
from fedgroups.federation.context import Federation
from fedgroups.settings import Settings

TEST_BASE_URL = "https://groups.test"
_POSTGRES_SERVER = os.environ.get("FEDGROUPS_TEST_POSTGRES", "")
_REQUIRE_POSTGRES = os.environ.get("FEDGROUPS_REQUIRE_POSTGRES") == "1"


def _postgres_reachable() -> bool:
    if not _POSTGRES_SERVER:
        return False

    async def probe() -> None:
        connection = await asyncpg.connect(_POSTGRES_SERVER, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


_HAS_POSTGRES = _postgres_reachable()
if _REQUIRE_POSTGRES and not _HAS_POSTGRES:
    raise RuntimeError(f"PostgreSQL tier required but {_POSTGRES_SERVER!r} is not reachable")
BACKENDS = ["sqlite", "postgres"] if _HAS_POSTGRES else ["sqlite"]


def pytest_report_header() -> str:
    return f"database tiers: {', '.join(BACKENDS)}"


def make_settings(database_url: str, data_dir: Path, **overrides: str) -> Settings:
    env = {
        "FEDGROUPS_BASE_URL": TEST_BASE_URL,
        "FEDGROUPS_DATABASE_URL": database_url,
        "FEDGROUPS_DATA_DIR": str(data_dir),
        "FEDGROUPS_WORKERS": "0",
        **overrides,
    }
    return Settings.from_env(env).with_secret_key()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.sqlite3"
    asyncio.run(migrate(make_settings(f"sqlite://{path}", directory)))
    return path


def _server_url_with_db(name: str) -> str:
    base, _, _ = _POSTGRES_SERVER.rstrip("/").rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL database for this run, migrated once, dropped at the end."""
    name = f"fedgroups_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(_POSTGRES_SERVER)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = _server_url_with_db(name)
    try:
        asyncio.run(migrate(make_settings(url, tmp_path_factory.mktemp("pg"))))
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'tortoise_%'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        if names:
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "fedgroups.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The test's database, bound for the test body."""
    async with database(settings):
        yield


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The instance's ASGI app with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):  # so the test body can use the models too
            yield application


@pytest.fixture
async def client(app: Starlette, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
        yield http


@pytest.fixture
async def peers_app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    """An instance that may talk to peers on loopback ports (FEDGROUPS_ALLOW_PRIVATE_PEERS=1)."""
    peers_settings = make_settings(
        database_url, tmp_path / "data", FEDGROUPS_ALLOW_PRIVATE_PEERS="1"
    )
    application = create_app(peers_settings)
    async with application.router.lifespan_context(application):
        with bind_context(application.state.db):
            yield application


@pytest.fixture
def federation(peers_app: Starlette) -> Federation:
    """The federation services (client, remote actors) of `peers_app`."""
    services: Federation = peers_app.state.federation
    return services
