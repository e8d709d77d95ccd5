"""The checks, one module per section; importing this package registers them in order."""

from conformance.checks import (  # noqa: F401
    actor,
    collections,
    discovery,
    fetches,
    flow,
    inbox,
    keys,
    signers,
)

# Registration order is run order: discovery first (it finds the actor), the flow last.
from conformance.runner import CHECKS, SECTIONS

CHECKS.sort(key=lambda check: SECTIONS.index(check.section))
