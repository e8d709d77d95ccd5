"""Instance-level federation policy: which peer domains this instance blocks, limits or trusts.

Every change goes through `fedgroups.groups.defederation.applying`, which settles what the
change means for the queues (held activities released or dropped, deliveries to refused
servers cancelled) and tells the local members it cuts off from groups or people elsewhere.
Each is written to the admins' log, under the admin who made it (`by`; None from the CLI).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.admin_log import record_admin_action
from fedgroups.groups.defederation import applying
from fedgroups.groups.severance import Refusal, refusal_of
from fedgroups.models import Actor, BlockSeverity, DomainAllow, DomainBlock, ModerationAction

_ALLOWED = set("abcdefghijklmnopqrstuvwxyz0123456789.-:[]")
MAX_REASON = 1_000
DENIED = "not approved by the admins"


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


def domain_of(address: str) -> str:
    """The server of a handle (`@alice@example.org`), a URL or a domain; ValidationError if none."""
    text = address.strip()
    return normalise_domain(text if "://" in text else text.rsplit("@", 1)[-1])


async def refusal_for(address: str) -> Refusal | None:
    """Why this instance refuses the server of `address` (see `domain_of`), if it does."""
    return await refusal_of(domain_of(address))


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON:
        raise ValidationError(f"keep the reason under {MAX_REASON} characters")
    return reason


async def block_domain(
    domain: str,
    *,
    reason: str = "",
    severity: BlockSeverity = BlockSeverity.SUSPEND,
    by: Actor | None = None,
) -> DomainBlock:
    """Block a domain (or change the reason/severity of an existing block).

    suspend: nothing is accepted from it or sent to it. limit: its activities are accepted,
    but its people and groups stay out of listings and its posts wait for review.
    """
    name, reason = normalise_domain(domain), _reason(reason)
    async with applying():
        block, created = await DomainBlock.get_or_create(
            domain=name, defaults={"reason": reason, "severity": severity}
        )
        if not created:
            block.reason, block.severity = reason or block.reason, severity
            await block.save(update_fields=["reason", "severity"])
        await record_admin_action(
            ModerationAction.BLOCK_DOMAIN, by, target=name,
            reason=f"{severity.value}: {block.reason}".rstrip(": "),
        )  # fmt: skip
    return block


async def unblock_domain(domain: str, *, by: Actor | None = None) -> bool:
    """Lift a block; False if there was none."""
    name = normalise_domain(domain)
    async with applying():
        if not await DomainBlock.filter(domain=name).delete():
            return False
        await record_admin_action(ModerationAction.UNBLOCK_DOMAIN, by, target=name)
    return True


async def list_blocks() -> list[DomainBlock]:
    return await DomainBlock.all().order_by("domain")


async def allow_domain(domain: str, *, reason: str = "", by: Actor | None = None) -> DomainAllow:
    """Say yes to a domain: listed for allowlist mode, and what it sent while cautious mode
    kept it waiting is processed now. A block on it still wins (lift it with unblock).
    """
    name, reason = normalise_domain(domain), _reason(reason)
    async with applying():
        allow, created = await DomainAllow.get_or_create(domain=name, defaults={"reason": reason})
        if not created and reason:
            allow.reason = reason
            await allow.save(update_fields=["reason"])
        await record_admin_action(ModerationAction.ALLOW_DOMAIN, by, target=name, reason=reason)
    return allow


async def deny_domain(domain: str, *, reason: str = "", by: Actor | None = None) -> DomainBlock:
    """Say no to a domain: off the allowlist, what it sent while waiting is dropped, and it
    is suspended so that it does not come back as a new question.
    """
    name, reason = normalise_domain(domain), _reason(reason) or DENIED
    async with applying():
        await DomainAllow.filter(domain=name).delete()
        block, created = await DomainBlock.get_or_create(
            domain=name, defaults={"reason": reason, "severity": BlockSeverity.SUSPEND}
        )
        if not created:
            block.reason, block.severity = reason, BlockSeverity.SUSPEND
            await block.save(update_fields=["reason", "severity"])
        await record_admin_action(ModerationAction.DENY_DOMAIN, by, target=name, reason=reason)
    return block


async def disallow_domain(domain: str, *, by: Actor | None = None) -> None:
    """Take a domain off the allowlist without blocking it (it asks again in cautious mode)."""
    name = normalise_domain(domain)
    async with applying():
        if not await DomainAllow.filter(domain=name).delete():
            raise NotFound(f"{name} was not on the allowlist")
        await record_admin_action(ModerationAction.DISALLOW_DOMAIN, by, target=name)


async def list_allows() -> list[DomainAllow]:
    return await DomainAllow.all().order_by("domain")
