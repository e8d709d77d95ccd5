"""NodeInfo 2.0 / 2.1 documents and their discovery document (plus FEP-2677's instance actor)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

SCHEMA_20: Final = "http://nodeinfo.diaspora.software/ns/schema/2.0"
SCHEMA_21: Final = "http://nodeinfo.diaspora.software/ns/schema/2.1"
SOFTWARE_NAME: Final = "fedgroups"
REPOSITORY: Final = "https://github.com/fedgroups/fedgroups"


def content_type(version: str) -> str:
    return f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'


@dataclass(frozen=True)
class NodeStats:
    users_total: int
    users_active_month: int
    users_active_halfyear: int
    local_posts: int
    local_comments: int
    group_count: int


def render_discovery(base_url: str, instance_actor_id: str) -> dict[str, Any]:
    return {
        "links": [
            {"rel": SCHEMA_21, "href": f"{base_url}/nodeinfo/2.1"},
            {"rel": SCHEMA_20, "href": f"{base_url}/nodeinfo/2.0"},
            {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": instance_actor_id},
        ]
    }


def render_nodeinfo(
    version: str,
    software_version: str,
    stats: NodeStats,
    *,
    open_registrations: bool,
    node_name: str,
) -> dict[str, Any]:
    """The NodeInfo document; `repository`/`homepage` exist only in 2.1."""
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":
        software |= {"repository": REPOSITORY, "homepage": REPOSITORY}
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": stats.users_total,
                "activeMonth": stats.users_active_month,
                "activeHalfyear": stats.users_active_halfyear,
            },
            "localPosts": stats.local_posts,
            "localComments": stats.local_comments,
        },
        "metadata": {"nodeName": node_name, "groupCount": stats.group_count},
    }


# --- reading peers' NodeInfo -----------------------------------------------------------------

# Microblogs render a group's Announce of a post id as a boost, and cannot read an Announce of
# a Create (they fetch the inner id, get a Create, drop it). federation-interop.md 4.3.
MICROBLOG_SOFTWARE: Final = frozenset(
    {
        "mastodon", "hometown", "glitchsoc", "pleroma", "akkoma", "gotosocial", "misskey",
        "calckey", "firefish", "sharkey", "iceshrimp", "foundkey", "catodon", "snac",
        "takahe", "pixelfed",
    }
)  # fmt: skip
# FEP-1b12 group software reads Announce{Create} and rejects Announce{Page} (Lemmy).
GROUP_AWARE_SOFTWARE: Final = frozenset(
    {"lemmy", "piefed", "mbin", "kbin", "nodebb", "friendica", "fedgroups", "discourse"}
)


class AnnounceStyle(StrEnum):
    """How a follower's software wants a group's boost (federation-interop.md 4.3)."""

    OBJECT = "object"  # Announce{object: "<post id>"}
    ACTIVITY = "activity"  # Announce{object: <the Create as received>} (FEP-1b12)
    BOTH = "both"  # software unknown: both, each one is harmless to the other kind


def announce_style(software: str) -> AnnounceStyle:
    name = software.lower()
    if name in MICROBLOG_SOFTWARE:
        return AnnounceStyle.OBJECT
    if name in GROUP_AWARE_SOFTWARE:
        return AnnounceStyle.ACTIVITY
    return AnnounceStyle.BOTH


def parse_nodeinfo_href(discovery: Any) -> str | None:
    """The newest 2.x NodeInfo document linked from a `/.well-known/nodeinfo` document."""
    links = discovery.get("links") if isinstance(discovery, dict) else None
    hrefs: dict[str, str] = {}
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and isinstance(link.get("href"), str):
            rel = str(link.get("rel", "")).rstrip("#")
            if rel.startswith("http://nodeinfo.diaspora.software/ns/schema/2."):
                hrefs[rel] = link["href"]
    return hrefs[max(hrefs)] if hrefs else None


def parse_software_name(document: Any) -> str:
    """`software.name` of a NodeInfo document, lower-cased; "" when absent or odd."""
    software = document.get("software") if isinstance(document, dict) else None
    name = software.get("name") if isinstance(software, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        return ""
    return name.strip().lower()
