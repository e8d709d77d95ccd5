"""The conformance suite passes against fedgroups itself, started as `make run` starts it."""

from __future__ import annotations

import pytest

from conformance.cli import run_suite
from conformance.report import Status
from conformance.runner import SECTIONS, Options
from tests.e2e.instances import Instance

pytestmark = [pytest.mark.e2e, pytest.mark.interop]


async def test_fedgroups_passes_every_check(fedgroups_instance: Instance) -> None:
    options = Options(fedgroups_instance.base_url, "support", timeout=20.0, grace=1.0)
    report = await run_suite(options)
    not_passed = [
        f"{r.status} {r.id}: {r.reason}" for r in report.results if r.status is not Status.PASS
    ]
    assert not_passed == []
    assert {result.section for result in report.results} == set(SECTIONS)
    assert len(report.results) >= 40


async def test_a_members_only_group_passes_what_applies_and_says_why_the_rest_does_not(
    fedgroups_instance: Instance,
) -> None:
    options = Options(fedgroups_instance.base_url, "secret", timeout=20.0, grace=1.0)
    report = await run_suite(options)
    assert [f"{r.id}: {r.reason}" for r in report.results if r.status is Status.FAIL] == []
    skipped = {r.id: r.reason for r in report.results if r.status is Status.SKIP}
    assert skipped["collections.outbox"] == "members-only group: outbox answers 404 to strangers"
    assert skipped["flow.follow-accept"].startswith(
        "members-only group: follows wait for a moderator"
    )
    assert report.by_id("inbox.unsigned").status is Status.PASS
    assert report.by_id("flow.fetch-signers").status is Status.PASS
