"""The conformance suite passes against fedgroups itself, started as `make run` starts it."""

from __future__ import annotations

import pytest

from conformance.cli import run_suite
from conformance.report import Status
from conformance.runner import Options
from tests.e2e.instances import Instance

pytestmark = [pytest.mark.e2e, pytest.mark.interop]

SECTIONS = ("discovery", "actor", "collections", "fetch", "inbox")


async def test_fedgroups_passes_the_suite(fedgroups_instance: Instance) -> None:
    options = Options(
        fedgroups_instance.base_url, "support", timeout=20.0, grace=1.0, only=SECTIONS
    )
    report = await run_suite(options)
    failures = [f"{r.id}: {r.reason}" for r in report.results if r.status is not Status.PASS]
    assert failures == []
    assert len(report.results) >= 30
