"""Turn untrusted wire JSON into frozen dataclasses; nothing else picks ActivityStreams apart.

Every parser checks types and sizes, and that ids claimed by a document share its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedgroups.activitypub.vocabulary import ACTOR_TYPES, AS_NS
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


def origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) lower-cased: the unit of trust for ids and keys."""
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


def has_as_context(data: dict[str, Any]) -> bool:
    """Mastodon drops documents whose @context does not name ActivityStreams."""
    context = data.get("@context")
    items = context if isinstance(context, list) else [context]
    return AS_NS in items


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
