"""NodeInfo 2.0 / 2.1 documents and their discovery document (plus FEP-2677's instance actor)."""

from __future__ import annotations

from dataclasses import dataclass
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
