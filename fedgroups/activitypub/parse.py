"""Turn untrusted wire JSON into frozen dataclasses; nothing else picks ActivityStreams apart.

Every parser checks types and sizes, and that ids claimed by a document share its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fedgroups.activitypub.vocabulary import ACTOR_TYPES, PUBLIC
from fedgroups.errors import MalformedActivity, OriginMismatch

MAX_ID_LENGTH = 512
MAX_NAME_LENGTH = 2048
MAX_SUMMARY_LENGTH = 20_000
MAX_PEM_LENGTH = 16_384


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    owner: str
    public_key_pem: str


@dataclass(frozen=True)
class ParsedActor:
    ap_id: str
    kind: str
    username: str
    display_name: str
    summary: str
    url: str
    inbox: str
    shared_inbox: str
    outbox: str
    followers: str
    manually_approves_followers: bool
    keys: tuple[ParsedKey, ...]


@lru_cache(maxsize=4096)
def origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) lower-cased: the unit of trust for ids and keys.

    Remembered: a post's checks ask it a dozen times, mostly of the same few actor and object
    ids, and splitting a URL costs more than looking it up."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def same_origin(first: str, second: str) -> bool:
    return origin(first) == origin(second)


def _text(data: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise MalformedActivity(f"missing {key}")
        return ""
    if not isinstance(value, str):
        raise MalformedActivity(f"{key} must be a string")
    return value[:limit]


def _url(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if isinstance(value, dict):  # some peers inline {"id": ...} or a Link
        value = value.get("id") or value.get("href")
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise MalformedActivity(f"{key} must be an http(s) URL")
    if len(value) > MAX_ID_LENGTH:
        raise MalformedActivity(f"{key} is too long")
    return value


def _parse_keys(data: dict[str, Any], ap_id: str) -> tuple[ParsedKey, ...]:
    raw = data.get("publicKey")
    candidates = raw if isinstance(raw, list) else [raw] if raw is not None else []
    keys = []
    for item in candidates[:10]:  # Mastodon 4.7 reads at most 10 keys
        if not isinstance(item, dict):
            continue
        key_id = _url(item, "id", required=True)
        owner = _url(item, "owner", required=True)
        pem = _text(item, "publicKeyPem", MAX_PEM_LENGTH, required=True)
        # A key must be owned by this actor and live on its origin (FEP-fe34).
        if owner != ap_id or not same_origin(key_id, ap_id):
            continue
        keys.append(ParsedKey(key_id=key_id, owner=owner, public_key_pem=pem))
    return tuple(keys)


def parse_actor(data: dict[str, Any]) -> ParsedActor:
    """An actor document as fetched from its origin. Raises MalformedActivity if unusable."""
    kind = data.get("type")
    if kind not in ACTOR_TYPES:
        raise MalformedActivity(f"not an actor type: {kind!r}")
    ap_id = _url(data, "id", required=True)
    inbox = _url(data, "inbox", required=True)
    endpoints = data.get("endpoints")
    shared_inbox = _url(endpoints, "sharedInbox") if isinstance(endpoints, dict) else ""
    for url in (inbox, shared_inbox):
        if url and not same_origin(url, ap_id):
            raise OriginMismatch(f"{ap_id} names an inbox on another origin")
    username = _text(data, "preferredUsername", 255) or urlsplit(ap_id).path.rsplit("/", 1)[-1]
    return ParsedActor(
        ap_id=ap_id,
        kind=str(kind),
        username=username,
        display_name=_text(data, "name", MAX_NAME_LENGTH),
        summary=_text(data, "summary", MAX_SUMMARY_LENGTH),
        url=_url(data, "url") if isinstance(data.get("url"), str | dict) else "",
        inbox=inbox,
        shared_inbox=shared_inbox,
        outbox=_url(data, "outbox"),
        followers=_url(data, "followers"),
        manually_approves_followers=data.get("manuallyApprovesFollowers") is True,
        keys=_parse_keys(data, ap_id),
    )


def parse_key_document(data: dict[str, Any]) -> ParsedKey:
    """A stand-alone key document (`{id, owner, publicKeyPem}`), as some servers serve keyIds."""
    key_id = _url(data, "id", required=True)
    owner = _url(data, "owner", required=True)
    pem = _text(data, "publicKeyPem", MAX_PEM_LENGTH, required=True)
    if not same_origin(key_id, owner):
        raise OriginMismatch(f"key {key_id} claims an owner on another origin")
    return ParsedKey(key_id=key_id, owner=owner, public_key_pem=pem)


POST_TYPES = frozenset({"Note", "Article", "Page", "Question"})
MAX_RECIPIENTS = 1_000


@dataclass(frozen=True)
class ParsedPost:
    ap_id: str
    kind: str
    attributed_to: str
    content: str
    summary: str
    name: str
    url: str
    in_reply_to: str
    published: str
    recipients: frozenset[str]  # to, cc, audience and mention hrefs together
    is_public: bool


def _ids(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    found = []
    for item in items[:MAX_RECIPIENTS]:  # T31: huge address lists are cut, not walked
        if isinstance(item, dict):
            item = item.get("id") or item.get("href")
        if isinstance(item, str):
            found.append(item)
    return found


def _mentions(tags: Any) -> list[str]:
    items = tags if isinstance(tags, list) else [tags] if isinstance(tags, dict) else []
    return [
        tag["href"]
        for tag in items[:MAX_RECIPIENTS]
        if isinstance(tag, dict)
        and tag.get("type") == "Mention"
        and isinstance(tag.get("href"), str)
    ]


def addressed_to(data: dict[str, Any]) -> frozenset[str]:
    """Everyone a document addresses or mentions."""
    found = [
        *_ids(data.get("to")),
        *_ids(data.get("cc")),
        *_ids(data.get("audience")),
        *_mentions(data.get("tag")),
    ]
    return frozenset(found)


def parse_post(data: dict[str, Any]) -> ParsedPost:
    """A Note/Article/Page/Question as its author's server serves it."""
    kind = data.get("type")
    if kind not in POST_TYPES:
        raise MalformedActivity(f"not a post type: {kind!r}")
    ap_id = _url(data, "id", required=True)
    author = data.get("attributedTo")
    author_ids = _ids(author)
    if not author_ids:
        raise MalformedActivity("post has no attributedTo")
    recipients = addressed_to(data)
    public_forms = {PUBLIC, "as:Public", "Public"}  # the compacted forms peers also send
    return ParsedPost(
        ap_id=ap_id,
        kind=str(kind),
        attributed_to=author_ids[0],
        content=_text(data, "content", 200_000),
        summary=_text(data, "summary", 2_000),
        name=_text(data, "name", 512),
        url=_url(data, "url") if isinstance(data.get("url"), str) else "",
        in_reply_to=(_ids(data.get("inReplyTo")) or [""])[0][:MAX_ID_LENGTH],
        published=_text(data, "published", 64),
        recipients=recipients,
        is_public=bool(recipients & public_forms),
    )
