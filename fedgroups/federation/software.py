"""Which software each peer runs, read from its NodeInfo and kept per domain for a week.

Groups boost differently for microblogs and for FEP-1b12 software (federation-interop.md
4.3), so we ask once per domain when someone from it joins, never on the delivery path.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from fedgroups.activitypub.nodeinfo import parse_nodeinfo_href, parse_software_name
from fedgroups.errors import FetchError
from fedgroups.federation.fetch import fetch_json
from fedgroups.models import Actor, PeerDomain

log = logging.getLogger(__name__)

KNOWN_FOR = timedelta(days=7)  # software rarely changes, and a wrong guess is harmless
UNKNOWN_FOR = timedelta(hours=1)  # a peer whose NodeInfo failed is asked again soon


async def learn_software(client: httpx.AsyncClient, actor: Actor) -> str:
    """The software name of `actor`'s server ("" when it cannot be told), cached per domain."""
    if actor.is_local:
        return ""
    now = datetime.now(UTC)
    peer = await PeerDomain.get_or_none(domain=actor.domain)
    if peer is not None and peer.software_checked_at is not None:
        fresh_for = KNOWN_FOR if peer.software else UNKNOWN_FOR
        if now - peer.software_checked_at < fresh_for:
            return peer.software
    name = await _ask_nodeinfo(client, actor.ap_id)
    _, created = await PeerDomain.get_or_create(
        domain=actor.domain, defaults={"software": name, "software_checked_at": now}
    )
    if not created:
        await PeerDomain.filter(domain=actor.domain).update(software=name, software_checked_at=now)
    return name


async def _ask_nodeinfo(client: httpx.AsyncClient, actor_ap_id: str) -> str:
    parts = urlsplit(actor_ap_id)
    discovery_url = f"{parts.scheme}://{parts.netloc}/.well-known/nodeinfo"
    try:
        discovery = await fetch_json(client, discovery_url)
        href = parse_nodeinfo_href(discovery.data)
        if href is None:
            return ""
        if urlsplit(href).netloc.lower() != parts.netloc.lower():
            return ""  # another host's document says nothing about this one
        return parse_software_name((await fetch_json(client, href)).data)
    except FetchError as error:
        log.info("no NodeInfo from %s: %s", parts.netloc, error)
        return ""


async def software_by_domain(domains: set[str]) -> dict[str, str]:
    """What is known of these domains' software, in one query."""
    rows = await PeerDomain.filter(domain__in=sorted(domains)).values_list("domain", "software")
    return {str(domain): str(software) for domain, software in rows}
