"""`python -m conformance`: PASS/FAIL lines with rules, exit code, and the --json report."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.conformance.flaws import Flaw
from tests.conformance.group_server import NAME, serve_group
from tests.peer import free_port

pytestmark = pytest.mark.interop
REPOSITORY = Path(__file__).resolve().parents[2]


async def run_cli(*args: str) -> tuple[int, str]:
    """The command as an admin runs it, in its own process (the server stays on this loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conformance", *args, cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_failure_exits_non_zero_and_is_reported_in_json(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    async with serve_group(Flaw.PLAIN_JSON) as server:
        code, output = await run_cli(
            server.base_url, "--group", NAME, "--only", "actor", "--json", str(report_path)
        )
    assert code == 1, output
    assert "FAIL  actor.content-type: GET" in output
    assert "rule: [M app/helpers/json_ld_helper.rb valid_activitypub_content_type?" in output
    assert "NOT conformant" in output
    report = json.loads(report_path.read_text())
    assert report["ok"] is False
    assert report["group"] == f"{NAME}@{server.domain}"
    by_id = {result["id"]: result for result in report["results"]}
    assert by_id["actor.content-type"]["status"] == "FAIL"
    assert "application/json" in by_id["actor.content-type"]["reason"]
    assert by_id["actor.type"]["status"] == "PASS"
    assert report["summary"]["FAIL"] >= 1
    assert all(result["rule"] for result in report["results"])


async def test_a_conforming_run_exits_zero() -> None:
    async with serve_group() as server:
        code, output = await run_cli(server.base_url, "--group", NAME, "--only", "discovery")
    assert code == 0, output
    assert "PASS  webfinger.acct:" in output
    assert "FAIL" not in output


async def test_an_instance_that_does_not_answer_is_one_clear_error() -> None:
    code, output = await run_cli(f"http://127.0.0.1:{free_port()}", "--group", NAME)
    assert code == 2, output
    assert output.startswith("error: the instance cannot be reached: GET http://127.0.0.1:")
    assert "PASS" not in output and "FAIL" not in output
