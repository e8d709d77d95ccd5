"""Where a peer domain stands, all decisions and the federation mode weighed (pure rules)."""

from __future__ import annotations

import pytest

from fedgroups.models import BlockSeverity, FederationMode, Standing
from fedgroups.models.domain import Policy

SUSPEND, LIMIT = BlockSeverity.SUSPEND, BlockSeverity.LIMIT


def policy(
    mode: FederationMode = FederationMode.OPEN,
    blocks: dict[str, BlockSeverity] | None = None,
    allowed: tuple[str, ...] = (),
) -> Policy:
    return Policy(mode, blocks or {}, frozenset(allowed))


@pytest.mark.parametrize(
    ("rules", "domain", "standing"),
    [
        (policy(), "peer.test", Standing.FEDERATES),
        (policy(blocks={"peer.test": SUSPEND}), "peer.test", Standing.REFUSED),
        (policy(blocks={"peer.test": SUSPEND}), "a.peer.test:8443", Standing.REFUSED),
        (policy(blocks={"peer.test": LIMIT}), "peer.test", Standing.LIMITED),
        (policy(blocks={"peer.test:8443": SUSPEND}), "peer.test", Standing.FEDERATES),
        (policy(FederationMode.ALLOWLIST), "peer.test", Standing.REFUSED),
        (policy(FederationMode.ALLOWLIST, allowed=("peer.test",)), "peer.test", Standing.FEDERATES),
        (
            policy(FederationMode.ALLOWLIST, allowed=("peer.test",)),
            "x.peer.test",
            Standing.FEDERATES,
        ),
        (policy(FederationMode.ALLOWLIST, allowed=("x.peer.test",)), "peer.test", Standing.REFUSED),
        # A block wins over an allow, whatever the mode.
        (
            policy(FederationMode.ALLOWLIST, {"peer.test": SUSPEND}, ("peer.test",)),
            "peer.test",
            Standing.REFUSED,
        ),
        (
            policy(FederationMode.ALLOWLIST, {"peer.test": LIMIT}, ("peer.test",)),
            "peer.test",
            Standing.LIMITED,
        ),
        (policy(FederationMode.ALLOWLIST, {"peer.test": LIMIT}), "peer.test", Standing.REFUSED),
        (policy(FederationMode.CAUTIOUS), "new.test", Standing.PENDING),
        (policy(FederationMode.CAUTIOUS, allowed=("new.test",)), "new.test", Standing.FEDERATES),
        # A limit is an admin's decision: cautious mode has nothing left to ask about it.
        (policy(FederationMode.CAUTIOUS, {"new.test": LIMIT}), "new.test", Standing.LIMITED),
        (policy(FederationMode.CAUTIOUS, {"new.test": SUSPEND}), "new.test", Standing.REFUSED),
    ],
)
def test_standing(rules: Policy, domain: str, standing: Standing) -> None:
    assert rules.standing(domain) == standing
    assert rules.refuses(domain) is (standing == Standing.REFUSED)
