"""What the benchmarks read from the operating system: the machine, CPU time and memory."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TICKS = os.sysconf("SC_CLK_TCK")
# RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second with `cryptography`, one core, on the
# machine the project's performance baselines were measured on (a 200-byte message).
BASELINE_RSA_SIGNS = 4_098.0


@dataclass(frozen=True)
class Machine:
    """The machine a run happened on, as docs/benchmarks.md quotes it."""

    cpus: int
    cpu_model: str
    ram_gib: float
    python: str

    def describe(self) -> str:
        return (
            f"{self.cpus} CPUs ({self.cpu_model}), {self.ram_gib:.0f} GiB RAM, Python {self.python}"
        )


def machine() -> Machine:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return Machine(os.cpu_count() or 1, model, pages / 2**30, platform.python_version())


def rsa_signs_per_second(seconds: float = 1.0) -> float:
    """How fast this machine signs, as a yardstick between runs on different hosts.

    VMs of the same kind land on hosts that differ by several times in speed; every figure
    of a run moves with this one, so runs are only comparable beside it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message, count = b"x" * 200, 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        count += 1
    return count / elapsed


def process_cpu(pid: int) -> float:
    """utime + stime of one process in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its direct children (uvicorn may fork helpers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return process_cpu(pid) + sum(process_cpu(int(child)) for child in children)


def postgres_cpu() -> float:
    """CPU seconds of every process the postgres user runs (the server and its backends)."""
    found = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True, check=False)
    return sum(process_cpu(int(pid)) for pid in found.stdout.split())


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (10^6 bytes; 0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0
