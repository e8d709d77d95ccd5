"""Instance-level federation policy: which peer domains this instance refuses to talk to."""

from __future__ import annotations

from urllib.parse import urlsplit

from fedgroups.errors import ValidationError
from fedgroups.models import BlockSeverity, DomainBlock

_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")


def normalise_domain(domain: str) -> str:
    """host or host:port, lower-cased, without a trailing dot; accepts a pasted URL too."""
    value = domain.strip().lower()
    if "://" in value:
        value = urlsplit(value).netloc
    value = value.rstrip("/").removesuffix(".")
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if not value or set(value) - _ALLOWED or (port and not port.isdigit()):
        raise ValidationError(f"not a domain: {domain!r}")
    return f"{host.rstrip('.')}:{port}" if port else value


async def block_domain(
    domain: str, *, reason: str = "", severity: BlockSeverity = BlockSeverity.SUSPEND
) -> DomainBlock:
    """Block a domain (or update the reason/severity of an existing block)."""
    block, created = await DomainBlock.get_or_create(
        domain=normalise_domain(domain), defaults={"reason": reason, "severity": severity}
    )
    if not created:
        block.reason, block.severity = reason or block.reason, severity
        await block.save(update_fields=["reason", "severity"])
    return block


async def unblock_domain(domain: str) -> bool:
    """Lift a block; False if there was none."""
    return bool(await DomainBlock.filter(domain=normalise_domain(domain)).delete())


async def list_blocks() -> list[DomainBlock]:
    return await DomainBlock.all().order_by("domain")
