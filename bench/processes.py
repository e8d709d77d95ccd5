"""Starting and stopping the processes a figure measures or loads with, always by their PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A child process, its log, and what it said when it was ready."""

    process: subprocess.Popen[str]
    log_path: Path
    log: IO[str]
    ready: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn(args: Sequence[str], env: dict[str, str], log_path: Path, ready_marker: str) -> Running:
    """Start `args` and return once its log shows `ready_marker`.

    A marker line that is a JSON object (after the marker) is parsed into `Running.ready`.
    """
    log = log_path.open("w")
    process = subprocess.Popen(list(args), env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    running = Running(process, log_path, log)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"{args[0:4]} exited early:\n{log_path.read_text()[-3000:]}")
        for line in log_path.read_text().splitlines():
            if line.startswith(ready_marker):
                rest = line[len(ready_marker) :].strip()
                if rest.startswith("{"):
                    running.ready = json.loads(rest)
                return running
        time.sleep(0.05)
    running.stop()
    raise RuntimeError(f"{args[0:4]} did not start:\n{log_path.read_text()[-3000:]}")


def instance_env(database_url: str, data_dir: Path, base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked instance: local peers allowed, as in the e2e tests."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "FEDGROUPS_BASE_URL": base_url,
        "FEDGROUPS_DATA_DIR": str(data_dir),
        "FEDGROUPS_DATABASE_URL": database_url,
        "FEDGROUPS_ALLOW_PRIVATE_PEERS": "1",
        **extra,
    }


def serve(env: dict[str, str], port: int, log_path: Path) -> Running:
    """`fedgroups serve`, exactly as an operator starts it."""
    return spawn(
        [sys.executable, "-m", "fedgroups.cli", "serve", "--port", str(port)],
        env, log_path, "fedgroups serving",
    )  # fmt: skip


def worker(env: dict[str, str], log_path: Path, concurrency: int = 4) -> Running:
    """`fedgroups worker`; it prints nothing when ready, so wait for its first log line."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "fedgroups.cli", "worker", "--concurrency", str(concurrency)],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Running(process, log_path, log)


def python_module(
    module: str, args: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> Running:
    """One of the bench's own helper processes; each prints `READY {json}` once listening."""
    return spawn([sys.executable, "-m", module, *args], env or dict(os.environ), log_path, "READY")


def run_module(module: str, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run a helper process to completion and return the JSON object it prints last."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{module} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


class Profile:
    """With BENCH_PROFILE=1, samples `pid` with py-spy for the measured window.

    Writes collapsed stacks (flamegraph input) to `path`; a no-op without the variable.
    """

    def __init__(self, pid: int, path: Path, seconds: float) -> None:
        self.args = [
            str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
            "--duration", str(max(1, round(seconds))), "--format", "raw", "--nonblocking",
            "--output", str(path),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profile:
        if os.environ.get("BENCH_PROFILE"):
            self.process = subprocess.Popen(
                self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
