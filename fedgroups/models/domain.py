"""What this instance knows and decides about other servers: blocks, allows, health, software."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from fedgroups.models.policy import FederationMode


class BlockSeverity(StrEnum):
    SUSPEND = "suspend"  # refuse everything from and to the domain
    LIMIT = "limit"  # accept, but hide from the directory and hold posts for review


class DomainBlock(Model):
    """An admin's decision to stop (suspend) or restrict (limit) federating with a domain.

    The domain is a host, or host:port. A block also covers the domain's subdomains.
    """

    id = fields.IntField(primary_key=True)
    domain = fields.CharField(max_length=255, unique=True)
    severity = fields.CharEnumField(BlockSeverity, max_length=16, default=BlockSeverity.SUSPEND)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "domain_blocks"


class DomainAllow(Model):
    """An admin's yes to a domain: listed in allowlist mode, let in by cautious mode.

    Like a block it covers the domain's subdomains. A block still wins over an allow.
    """

    id = fields.IntField(primary_key=True)
    domain = fields.CharField(max_length=255, unique=True)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "domain_allows"


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


class Standing(StrEnum):
    """Where a peer domain stands with this instance, all decisions and the mode weighed."""

    FEDERATES = "federates"
    LIMITED = "limited"  # accepted, kept out of listings, its posts wait for review
    PENDING = "pending"  # cautious mode: not seen before, waits for an admin's yes
    REFUSED = "refused"  # suspended, or outside the allowlist: nothing in or out


def domain_candidates(domain: str) -> list[str]:
    """`domain` as blocks may name it: host:port, host, and each parent domain of host."""
    domain = domain.lower()
    host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain
    labels = host.split(".")
    parents = {".".join(labels[i:]) for i in range(1, len(labels) - 1)}
    return sorted({domain, host} | parents)


@dataclass(frozen=True)
class Policy:
    """The decisions bearing on some domains, read in one round trip (see `policy_for`)."""

    mode: FederationMode
    blocks: Mapping[str, BlockSeverity]
    allowed: frozenset[str]
    unavailable: frozenset[str] = frozenset()

    def standing(self, domain: str) -> Standing:
        """Suspension wins, then the allowlist, then limit, then cautious mode's question."""
        names = domain_candidates(domain)
        severities = {self.blocks[name] for name in names if name in self.blocks}
        if BlockSeverity.SUSPEND in severities:
            return Standing.REFUSED
        is_allowed = not self.allowed.isdisjoint(names)
        if self.mode == FederationMode.ALLOWLIST and not is_allowed:
            return Standing.REFUSED
        if severities:
            return Standing.LIMITED  # an admin has decided on it: not a question any more
        if self.mode == FederationMode.CAUTIOUS and not is_allowed:
            return Standing.PENDING
        return Standing.FEDERATES

    def refuses(self, domain: str) -> bool:
        return self.standing(domain) == Standing.REFUSED

    def is_limited(self, domain: str) -> bool:
        return self.standing(domain) == Standing.LIMITED


_IN_LIST_LIMIT = 500  # past this many names, reading the (small) decision tables is cheaper


def _marks(dialect: str) -> Iterator[str]:
    prefix = "$" if dialect == "postgres" else "?"
    return (f"{prefix}{number}" for number in itertools.count(1))


async def policy_for(domains: Iterable[str], *, health_of: Iterable[str] = ()) -> Policy:
    """Blocks and allows naming any of `domains` (or a parent), the mode, and which of
    `health_of` are marked unavailable: one query, as the inbox asks it of every request.
    """
    candidates = sorted({name for domain in domains for name in domain_candidates(domain)})
    peers = sorted({domain.lower() for domain in health_of})
    connection = DomainBlock._meta.db
    mark = _marks(connection.capabilities.dialect)
    names = ""
    values: list[str] = []
    if len(candidates) <= _IN_LIST_LIMIT:
        names = f" WHERE domain IN ({', '.join(next(mark) for _ in candidates) or 'NULL'})"
        values.extend(candidates)
    down = f"domain IN ({', '.join(next(mark) for _ in peers) or 'NULL'})"
    values.extend(peers)
    sql = (
        f"SELECT 'block' AS kind, domain, severity AS value FROM domain_blocks{names} "  # noqa: S608
        f"UNION ALL SELECT 'allow', domain, '' FROM domain_allows{names} "
        "UNION ALL SELECT 'mode', '', federation_mode FROM instance_policy "
        f"UNION ALL SELECT 'down', domain, '' FROM peer_domains WHERE {down} "
        "AND unavailable_since IS NOT NULL"
    )
    rows = await connection.execute_query_dict(sql, values)
    return _policy_from(rows)


def _policy_from(rows: list[dict[str, Any]]) -> Policy:
    blocks: dict[str, BlockSeverity] = {}
    allowed: set[str] = set()
    unavailable: set[str] = set()
    mode = FederationMode.OPEN
    for row in rows:
        kind, domain, value = row["kind"], str(row["domain"]), str(row["value"])
        if kind == "block":
            blocks[domain] = BlockSeverity(value)
        elif kind == "allow":
            allowed.add(domain)
        elif kind == "mode":
            mode = FederationMode(value)
        else:
            unavailable.add(domain)
    return Policy(mode, blocks, frozenset(allowed), frozenset(unavailable))


async def refused_domains(domains: Iterable[str]) -> set[str]:
    """Which of `domains` this instance exchanges nothing with (suspended or not allowed)."""
    wanted = set(domains)
    if not wanted:
        return set()
    policy = await policy_for(wanted)
    return {domain for domain in wanted if policy.refuses(domain)}


async def is_domain_blocked(*domains: str) -> bool:
    """True when this instance refuses any of `domains`: suspended (or a parent domain is),
    or not on the allowlist in allowlist mode. Nothing is fetched from or sent to them.
    """
    return bool(await refused_domains(domains))
