"""What every figure shares within one `make bench` run: durations, scratch space, keys, polling."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.fixtures import Member, sender_keys, senders
from bench.processes import free_port


@dataclass
class Run:
    """One benchmark run. `smoke` shortens every measurement to a few seconds."""

    scratch: Path
    smoke: bool
    seconds: float
    warmup: float
    ingest_port: int = field(default_factory=free_port)
    keys: tuple[str, str] = field(default_factory=sender_keys)
    members: list[Member] = field(default_factory=lambda: senders(100, domains=10))
    requests_file: Path | None = None

    @classmethod
    def create(cls, scratch: Path, *, smoke: bool) -> Run:
        scratch.mkdir(parents=True, exist_ok=True)
        return cls(scratch, smoke, seconds=1.5 if smoke else 8.0, warmup=0.5 if smoke else 2.0)

    @property
    def base_url(self) -> str:
        """The origin of every benchmarked instance (and of the signed requests' Host)."""
        return f"http://127.0.0.1:{self.ingest_port}"

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path


async def sql_value(database_url: str, query: str) -> int:
    """One integer from the benchmarked database, read from this process (never the server's)."""
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://"), timeout=30) as connection:
            row = connection.execute(query).fetchone()
            return int(row[0] or 0)
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(query) or 0)
    finally:
        await connection.close()


async def sql_execute(database_url: str, statement: str) -> None:
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://"), timeout=30) as connection:
            connection.execute(statement)
        return
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.1
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(interval)
    return False
