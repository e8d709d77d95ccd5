"""Driving a server with wrk (Debian's `wrk`): replayed request files, latency percentiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Replays NUL-separated raw requests in order, wrapping around; each thread takes every
# n-th one so no two threads send the same activity. done() prints one JSON line.
_LUA = r"""
local requests = {}
local index = 0
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path ~= nil then
    local file = assert(io.open(path, "rb"))
    local data = file:read("*a")
    file:close()
    local step = tonumber(args[2])
    local n, start = 0, 1
    while true do
      local stop = string.find(data, "\0", start, true)
      local piece = string.sub(data, start, (stop or 0) - 1)
      if n % step == id then table.insert(requests, piece) end
      n = n + 1
      if not stop then break end
      start = stop + 1
    end
  end
end

function request()
  if #requests == 0 then return wrk.format() end
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    *,
    seconds: float,
    connections: int,
    scratch: Path,
    requests_file: Path | None = None,
    threads: int = 1,
) -> WrkResult:
    """Run wrk against `url` (GET, or the replayed requests) and parse its summary."""
    script = scratch / "replay.lua"
    script.write_text(_LUA)
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(script), url,
    ]  # fmt: skip
    if requests_file is not None:
        args += ["--", str(requests_file), str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    raw = json.loads(lines[0].removeprefix("RESULT "))
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        non2xx=raw["non2xx"],
        errors=raw["errors"],
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
