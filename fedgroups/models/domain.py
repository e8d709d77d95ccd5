"""What this instance knows and decides about other servers: blocks, health, software."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class BlockSeverity(StrEnum):
    SUSPEND = "suspend"  # refuse everything from and to the domain
    LIMIT = "limit"  # accept, but hide from the directory and hold posts for review


class DomainBlock(Model):
    """An admin's decision to stop federating with a domain (host, or host:port)."""

    id = fields.IntField(primary_key=True)
    domain = fields.CharField(max_length=255, unique=True)
    severity = fields.CharEnumField(BlockSeverity, max_length=16, default=BlockSeverity.SUSPEND)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "domain_blocks"


class PeerDomain(Model):
    """Per-peer facts learnt on the wire: its software, which signature scheme it takes, health."""

    id = fields.IntField(primary_key=True)
    domain = fields.CharField(max_length=255, unique=True)
    software = fields.CharField(max_length=64, default="")
    software_checked_at = fields.DatetimeField(null=True)
    signature_scheme = fields.CharField(max_length=16, default="")  # "" = not known yet
    last_success_at = fields.DatetimeField(null=True)
    last_failure_at = fields.DatetimeField(null=True)
    consecutive_failures = fields.IntField(default=0)
    unavailable_since = fields.DatetimeField(null=True)

    class Meta:
        table = "peer_domains"


def domain_candidates(domain: str) -> list[str]:
    """`domain` as blocks may name it: host:port, host, and each parent domain of host."""
    domain = domain.lower()
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    labels = host.split(".")
    parents = {".".join(labels[i:]) for i in range(1, len(labels) - 1)}
    return sorted({domain, host} | parents)


async def is_domain_blocked(*domains: str) -> bool:
    """True when any of `domains`, or a parent domain of one, is blocked (one query)."""
    candidates = {name for domain in domains for name in domain_candidates(domain)}
    return await DomainBlock.filter(domain__in=sorted(candidates)).exists()


async def domain_standing(senders: Iterable[str], peer: str) -> tuple[bool, bool]:
    """(any of `senders` blocked, `peer` marked unavailable), in one round trip.

    The inbox asks both of every request; one query instead of two is a fifth of its cost.
    """
    candidates = sorted({name for domain in senders for name in domain_candidates(domain)})
    connection = DomainBlock._meta.db
    if connection.capabilities.dialect == "postgres":
        marks = [f"${number}" for number in range(1, len(candidates) + 2)]
    else:
        marks = ["?"] * (len(candidates) + 1)
    sql = (
        "SELECT EXISTS (SELECT 1 FROM domain_blocks WHERE domain IN "  # noqa: S608 - marks only
        f"({', '.join(marks[:-1])})) AS blocked, EXISTS (SELECT 1 FROM peer_domains "
        f"WHERE domain = {marks[-1]} AND unavailable_since IS NOT NULL) AS unavailable"
    )
    rows = await connection.execute_query_dict(sql, [*candidates, peer.lower()])
    return bool(rows[0]["blocked"]), bool(rows[0]["unavailable"])
