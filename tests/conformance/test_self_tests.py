"""The suite judges correctly: a conforming server passes every check, and each flaw is caught.

One test per flaw: the flawed server differs from the conforming one in that flaw only, and the
first check to fail must be the one enforcing the rule it breaks, with a reason that says so.
"""

from __future__ import annotations

import pytest

import conformance.checks  # noqa: F401  (registers the checks)
from conformance.cli import run_suite
from conformance.report import Report, Status
from conformance.runner import CHECKS, Options
from tests.conformance.group_server import NAME, Flaw, serve_group

pytestmark = pytest.mark.interop

CASES = [
    (Flaw.UNSIGNED_POSTS_ACCEPTED, "inbox.unsigned", "no signature answered 202"),
    (Flaw.FORGED_SIGNATURES_ACCEPTED, "inbox.forged-signature", "forged signature answered 202"),
    (Flaw.STALE_DATES_ACCEPTED, "inbox.stale-date", "two hours old answered 202"),
    (Flaw.DIGEST_IGNORED, "inbox.wrong-digest", "Digest of other bytes answered 202"),
    (Flaw.PLAIN_JSON, "actor.content-type", "(application/json)"),
    (Flaw.ID_NOT_URL, "actor.id", "differs from the URL fetched"),
    (Flaw.WRONG_KEY_OWNER, "actor.key-owner", "is not the actor id"),
    (Flaw.GARBLED_KEY, "actor.key-parses", "cannot load publicKeyPem"),
    (Flaw.NO_CORS, "webfinger.cors", "Access-Control-Allow-Origin is None"),
    (Flaw.TWO_SELF_LINKS, "webfinger.self-link", "2 rel=self links"),
    (Flaw.NO_NODEINFO_21, "nodeinfo.2.1", "does not link a 2.1 document"),
    (Flaw.UNCOUNTED_OUTBOX, "collections.outbox", "totalItems None"),
    (Flaw.NO_VARY, "fetch.vary-accept", "Vary is None"),
    (Flaw.FORGETS_ACCEPT, "flow.follow-accept", "no Accept reached"),
    (Flaw.ACCEPT_BY_ID, "flow.follow-accept", "embed the Follow"),
    (Flaw.NO_ANNOUNCE, "flow.announce", "no Announce of alice's post"),
    (Flaw.KEEPS_EX_MEMBERS, "flow.undo-follow", "after alice's Undo"),
    (Flaw.IGNORES_DELETE, "flow.delete", "no Undo of the Announce"),
    (Flaw.BADLY_SIGNED_DELIVERIES, "flow.signatures", "not signed by their actor"),
]


async def run_against(base_url: str, *only: str) -> Report:
    options = Options(base_url, NAME, timeout=2.0, grace=0.3, only=only)
    return await run_suite(options)


def summary(report: Report) -> str:
    return "\n".join(f"{r.status} {r.id}: {r.reason}" for r in report.results)


async def test_a_conforming_server_passes_every_check() -> None:
    async with serve_group() as server:
        report = await run_against(server.base_url)
    assert report.ok, summary(report)
    assert report.count(Status.SKIP) == 0, summary(report)
    assert len(report.results) >= 40


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
