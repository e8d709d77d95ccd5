"""The suite judges correctly: a conforming server passes every check, and each flaw is caught.

One test per flaw, and every check has one: the flawed server differs from the conforming one
in that flaw only, and the first check to fail must be the one enforcing the rule it breaks,
with a reason that says so.
"""

from __future__ import annotations

import pytest

import conformance.checks  # noqa: F401  (registers the checks)
from conformance.cli import run_suite
from conformance.report import Report, Status
from conformance.runner import CHECKS, Options
from tests.conformance.flaws import CASES, Flaw
from tests.conformance.group_server import NAME, serve_group

pytestmark = pytest.mark.interop


async def run_against(base_url: str, *only: str) -> Report:
    options = Options(base_url, NAME, timeout=4.0, grace=0.3, only=only)
    return await run_suite(options)


def summary(report: Report) -> str:
    return "\n".join(f"{r.status} {r.id}: {r.reason}" for r in report.results)


async def test_a_conforming_server_passes_every_check() -> None:
    async with serve_group() as server:
        report = await run_against(server.base_url)
    assert report.ok, summary(report)
    assert report.count(Status.SKIP) == 0, summary(report)
    assert [result.id for result in report.results] == [check.id for check in CHECKS]


def test_every_check_has_a_flaw_it_catches() -> None:
    assert {check_id for _, check_id, _ in CASES} == {check.id for check in CHECKS}
    assert len({flaw for flaw, _, _ in CASES}) == len(CASES) == len(Flaw)


def section_of(check_id: str) -> str:
    return next(check.section for check in CHECKS if check.id == check_id)


@pytest.mark.parametrize(("flaw", "check_id", "reason"), CASES, ids=[c[0].name for c in CASES])
async def test_each_flaw_fails_its_check(flaw: Flaw, check_id: str, reason: str) -> None:
    """The whole section runs, so the flaw must not trip an earlier check first."""
    async with serve_group(flaw) as server:
        report = await run_against(server.base_url, section_of(check_id))
    failures = [result for result in report.results if result.status is Status.FAIL]
    assert failures, summary(report)
    assert failures[0].id == check_id, summary(report)
    assert reason in failures[0].reason, failures[0].reason
    assert not report.ok


async def test_an_instance_that_cannot_reach_the_peer_is_told_so() -> None:
    async with serve_group(reaches_peers=False) as server:
        report = await run_against(server.base_url, "inbox")
    reason = report.by_id("inbox.valid-signature").reason
    assert reason.startswith("a validly signed Follow answered 401, expected 2xx")
    assert "the instance never contacted the suite's peer at http://127.0.0.1:" in reason
    assert "--peer-host" in reason
