"""Real `fedgroups serve` processes on loopback ports, for tests over the real wire."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import asyncpg
import httpx

from tests.peer import free_port

READY_TIMEOUT = 30.0


@dataclass
class Instance:
    """One running instance: its URL, environment, and the process serving it."""

    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    log_path: Path
    log: IO[str]

    @property
    def domain(self) -> str:
        return self.base_url.removeprefix("http://")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "fedgroups.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"fedgroups {' '.join(args)} failed: {result.stderr}")
        return result

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]

    async def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Rows from the instance's own database; `?` marks the parameters on both backends."""
        url = self.env["FEDGROUPS_DATABASE_URL"]
        if url.startswith("sqlite://"):
            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as connection:
                return [tuple(row) for row in connection.execute(sql, params).fetchall()]
        parts = sql.split("?")
        numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(numbered, *params)]
        finally:
            await connection.close()

    async def inbox_item_state(self, activity_id: str) -> str | None:
        """How far the instance got with a received activity, read from its own database."""
        rows = await self.query(
            "SELECT state FROM inbox_items WHERE activity_ap_id = ?", activity_id
        )
        return str(rows[0][0]) if rows else None

    async def processed(self, activity_id: str) -> bool:
        return await self.inbox_item_state(activity_id) in ("done", "ignored", "failed")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


PORT_ATTEMPTS = 3


def start_instance(
    data_dir: Path,
    database_url: str | None = None,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Instance:
    """Migrate and serve a fresh instance; returns once it answers HTTP.

    `extra_env` adds variables, such as the test-only FEDGROUPS_TEST_TIMING. A port that
    another process took between `free_port()` and `serve` binding it is traded for another.
    """
    for attempt in range(PORT_ATTEMPTS):
        try:
            return _start_instance_on(free_port(), data_dir, database_url, workers, extra_env)
        except PortTaken:
            if attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    """`serve` could not bind the port it was given."""


def _start_instance_on(
    port: int,
    data_dir: Path,
    database_url: str | None,
    workers: int,
    extra_env: dict[str, str] | None,
) -> Instance:
    base_url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FEDGROUPS_BASE_URL": base_url,
        "FEDGROUPS_DATA_DIR": str(data_dir),
        "FEDGROUPS_DATABASE_URL": database_url or f"sqlite://{data_dir}/fedgroups.sqlite3",
        "FEDGROUPS_ALLOW_PRIVATE_PEERS": "1",
        "FEDGROUPS_WORKERS": str(workers),
        **(extra_env or {}),
    }
    subprocess.run(
        [sys.executable, "-m", "fedgroups.cli", "migrate"], env=env, check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    log_path = data_dir / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "fedgroups.cli", "serve", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    instance = Instance(base_url=base_url, env=env, process=process, log_path=log_path, log=log)
    _wait_until_ready(instance)
    return instance


def start_worker(instance: Instance, concurrency: int = 4) -> subprocess.Popen[str]:
    """`fedgroups worker` against the instance's database, logging beside `serve`."""
    log = (instance.log_path.parent / "worker.log").open("a")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "fedgroups.cli", "worker", "--concurrency", str(concurrency)],
            env=instance.env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    finally:
        log.close()  # the child holds its own copy


def _wait_until_ready(instance: Instance) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            instance.log.close()
            output = instance.log_path.read_text()
            if "address already in use" in output:
                raise PortTaken(output)
            raise RuntimeError(f"serve exited early:\n{output}")
        if "fedgroups serving" in instance.log_path.read_text():
            return
        time.sleep(0.05)
    instance.stop()
    raise RuntimeError(f"serve did not start:\n{instance.log_path.read_text()}")


async def wait_for(
    condition: Callable[[], object], *, timeout: float = 20.0, what: str = "condition"
) -> None:
    """Poll an outcome another process produces (its worker is not ours to drain).

    Async, so in-test peers served on this event loop keep answering meanwhile.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
