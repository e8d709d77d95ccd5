"""WebFinger (RFC 7033) and host-meta documents, and parsing of the `resource` parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import quoteattr

from fedgroups.activitypub.vocabulary import ACTIVITY_JSON, AS_NS
from fedgroups.errors import MalformedActivity, ValidationError

# The two self-link types Mastodon accepts, compared exactly as it does (app/lib/webfinger.rb).
ACTOR_LINK_TYPES = frozenset({ACTIVITY_JSON, f'application/ld+json; profile="{AS_NS}"'})
MAX_LINKS = 50


@dataclass(frozen=True)
class WebfingerQuery:
    """What a `resource` asks for: an acct: handle, or a URL on this instance."""

    username: str | None  # from acct:NAME@DOMAIN
    url: str | None  # from an https:// resource


def parse_resource(resource: str, domain: str) -> WebfingerQuery | None:
    """Parse `resource` as Mastodon sends it (raw or percent-encoded); None if it is not ours.

    Raises ValueError for a malformed resource (the endpoint answers 400).
    """
    value = unquote(resource.strip())
    if not value:
        raise ValueError("empty resource")
    if value.startswith(("http://", "https://")):
        return WebfingerQuery(username=None, url=value)
    value = value.removeprefix("acct:").removeprefix("@")
    name, at, host = value.rpartition("@")
    if not at or not name or not host:
        raise ValueError("resource must be acct:NAME@DOMAIN or a URL")
    if host.lower() != domain.lower():
        return None
    return WebfingerQuery(username=name, url=None)


def render_webfinger(
    username: str, domain: str, ap_id: str, profile_url: str, actor_type: str
) -> dict[str, Any]:
    """One subject, exactly one `self` link (Mastodon takes the first and compares the type)."""
    return {
        "subject": f"acct:{username}@{domain}",
        "aliases": [profile_url, ap_id] if profile_url != ap_id else [ap_id],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": profile_url,
            },
            {
                "rel": "self",
                "type": ACTIVITY_JSON,
                "href": ap_id,
                "properties": {"https://www.w3.org/ns/activitystreams#type": actor_type},
            },
        ],
    }


def render_host_meta_xml(base_url: str) -> str:
    template = quoteattr(f"{base_url}/.well-known/webfinger?resource={{uri}}")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    )


def render_host_meta_json(base_url: str) -> dict[str, Any]:
    return {
        "links": [{"rel": "lrdd", "template": f"{base_url}/.well-known/webfinger?resource={{uri}}"}]
    }


@dataclass(frozen=True)
class Handle:
    """`name@domain` as people type it (`@name@domain`, `acct:name@domain` too)."""

    username: str
    domain: str  # host[:port], lower-cased

    @property
    def acct(self) -> str:
        return f"acct:{self.username}@{self.domain}"


def parse_handle(text: str) -> Handle:
    """Split a handle; raise ValidationError when it is not one."""
    value = text.strip().removeprefix("acct:").removeprefix("@")
    username, at, domain = value.rpartition("@")
    if not at or not username or not domain or "@" in username or "/" in value:
        raise ValidationError(f"{text!r} is not a handle like @group@example.org")
    if any(char.isspace() for char in value):
        raise ValidationError(f"{text!r} is not a handle like @group@example.org")
    return Handle(username=username, domain=domain.lower())


def actor_link(document: dict[str, Any]) -> str:
    """The actor id a WebFinger answer points at: its first ActivityPub `self` link."""
    links = document.get("links")
    if not isinstance(links, list):
        raise MalformedActivity("WebFinger answer has no links")
    for link in links[:MAX_LINKS]:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href = link.get("href")
        if link.get("type") in ACTOR_LINK_TYPES and isinstance(href, str):
            if not href.startswith(("https://", "http://")) or len(href) > 512:
                raise MalformedActivity("WebFinger self link is not an http(s) URL")
            return href
    raise MalformedActivity("WebFinger answer has no ActivityPub self link")
