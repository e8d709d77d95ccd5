"""The group's actor document: what Mastodon, Lemmy and Fedify need to accept it as a group."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from bovine.crypto.types import CryptographicIdentifier
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.checks.discovery import self_links
from conformance.http import Fetched
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("actor")

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PROFILE = f'profile="{AS_CONTEXT}"'
USERNAME_RE = re.compile(r"^[a-z0-9_]+([.-]+[a-z0-9_]+)*$", re.IGNORECASE)  # [M account.rb]
REQUIRED_URLS = ("inbox", "outbox", "followers")


def valid_ap_content_type(content_type: str) -> bool:
    """Mastodon's and Lemmy's test: activity+json (charset allowed) or ld+json with the profile.

    [M app/helpers/json_ld_helper.rb valid_activitypub_content_type?; AF src/fetch/mod.rs]
    """
    media, *params = [part.strip() for part in content_type.split(";")]
    params = [p for p in params if p]
    if media.lower() == "application/activity+json":
        return all(p.lower().startswith("charset=") for p in params)
    if media.lower() == "application/ld+json":
        return AS_PROFILE in params
    return False


def expect_ap_document(fetched: Fetched) -> dict[str, Any]:
    fetched.expect_status(200)
    if not valid_ap_content_type(fetched.content_type):
        raise Failed(
            f"{fetched.describe()}: ActivityPub documents must be served as "
            f"application/activity+json or application/ld+json; {AS_PROFILE}"
        )
    return fetched.json_object()


async def _actor_fetch(context: Context) -> Fetched:
    return await context.get(await context.actor_url())


@check(
    "actor.content-type",
    rule=(
        "[M app/helpers/json_ld_helper.rb valid_activitypub_content_type?; AF src/fetch/mod.rs] "
        "(interop 8)"
    ),
)
async def actor_content_type(context: Context) -> str:
    fetched = await _actor_fetch(context)
    expect_ap_document(fetched)
    return f"served as {fetched.content_type}"


@check(
    "actor.id",
    rule=(
        "id == the URL fetched, no redirect [M json_ld_helper.rb fetch_resource; AF fetch] "
        "(interop 8)"
    ),
)
async def actor_id(context: Context) -> str:
    fetched = await _actor_fetch(context)
    if 300 <= fetched.status < 400:
        raise Failed(f"{fetched.describe()} redirecting to {fetched.headers.get('location')}")
    document = expect_ap_document(fetched)
    if document.get("id") != fetched.url:
        raise Failed(f"id {document.get('id')!r} differs from the URL fetched, {fetched.url}")
    return f"id == {fetched.url}"


@check(
    "actor.context",
    rule="@context holds the ActivityStreams context [M json_ld_helper.rb supported_context?]",
)
async def actor_context(context: Context) -> str:
    value = (await context.actor()).get("@context")
    contexts = value if isinstance(value, list) else [value]
    if AS_CONTEXT not in contexts:
        raise Failed(f"@context {value!r} does not contain {AS_CONTEXT}")
    return "ActivityStreams context present"


@check(
    "actor.type",
    rule="type Group [FEP-1b12; M app/services/activitypub/fetch_remote_actor_service.rb]",
)
async def actor_type(context: Context) -> str:
    kind = (await context.actor()).get("type")
    if kind != "Group":
        raise Failed(f"type is {kind!r}, not 'Group'")
    return "type Group"


@check(
    "actor.fields",
    rule=(
        "inbox, outbox, followers, preferredUsername, publicKey [M process_account_service.rb; L "
        "protocol/group.rs; FY threadiverse]"
    ),
)
async def actor_fields(context: Context) -> str:
    document = await context.actor()
    host = urlsplit(str(document.get("id"))).netloc
    for name in REQUIRED_URLS:
        value = document.get(name)
        if not isinstance(value, str) or urlsplit(value).netloc != host:
            raise Failed(f"{name} {value!r} is not a URL on the actor's host {host}")
    username = document.get("preferredUsername")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise Failed(f"preferredUsername {username!r} does not match Mastodon's USERNAME_RE")
    if not isinstance(document.get("publicKey"), dict | list):
        raise Failed("publicKey is missing")
    return f"{', '.join(REQUIRED_URLS)}, preferredUsername {username!r} and publicKey present"


@check(
    "actor.webfinger-property",
    rule="FEP-2c59 webfinger property; [MD spec/webfinger.md] (Mastodon 4.6+)",
)
async def actor_webfinger_property(context: Context) -> str:
    value = (await context.actor()).get("webfinger")
    if not isinstance(value, str):
        raise Failed("no FEP-2c59 'webfinger' property (Mastodon 4.6+ prefers it)")
    if value.lower() != context.options.handle.lower():
        raise Failed(f"webfinger is {value!r}, not {context.options.handle!r}")
    return f"webfinger {value}"


@check(
    "actor.webfinger-loopback",
    rule=(
        "acct:preferredUsername@host(id) points back at id [M process_account_service.rb "
        "check_webfinger!]"
    ),
)
async def actor_webfinger_loopback(context: Context) -> str:
    document = await context.actor()
    actor_id = str(document.get("id"))
    handle = f"{document.get('preferredUsername')}@{urlsplit(actor_id).netloc}"
    resource = quote(f"acct:{handle}", safe=":@")
    origin = f"{urlsplit(actor_id).scheme}://{urlsplit(actor_id).netloc}"
    fetched = await context.get(
        f"{origin}/.well-known/webfinger?resource={resource}", accept="application/jrd+json"
    )
    fetched.expect_status(200)
    hrefs = [link.get("href") for link in self_links(fetched.json_object())]
    if actor_id not in hrefs[:1]:
        raise Failed(f"acct:{handle} resolves to {hrefs}, not {actor_id}")
    return f"acct:{handle} -> {actor_id}"


def _main_key(document: dict[str, Any]) -> dict[str, Any]:
    key = document.get("publicKey")
    if isinstance(key, list):  # Mastodon 4.7 reads up to 10; older ones only the first
        key = key[0] if key else None
    if not isinstance(key, dict):
        raise Skipped("the actor has no publicKey object")
    return key


@check(
    "actor.key-owner",
    rule=(
        "publicKey.owner == actor id, key id under the actor [M process_account_service.rb] "
        "(interop 2.4)"
    ),
)
async def actor_key_owner(context: Context) -> str:
    document = await context.actor()
    key = _main_key(document)
    if key.get("owner") != document.get("id"):
        raise Failed(
            f"publicKey.owner {key.get('owner')!r} is not the actor id {document.get('id')!r}"
        )
    key_id = key.get("id")
    if not isinstance(key_id, str) or key_id.split("#")[0] != document.get("id"):
        raise Failed(f"publicKey.id {key_id!r} is not a fragment of the actor id")
    return f"key {key_id} owned by the actor"


@check("actor.key-parses", rule="SPKI PEM, RSA >= 2048 bits [MD spec/security.md] (interop 2.4)")
async def actor_key_parses(context: Context) -> str:
    document = await context.actor()
    pem = _main_key(document).get("publicKeyPem")
    if not isinstance(pem, str):
        raise Failed("publicKey has no publicKeyPem")
    try:
        identifier = CryptographicIdentifier.from_pem(pem, str(document.get("id")))
    except Exception as exc:  # bovine raises whatever the key parser raised
        raise Failed(f"bovine cannot load publicKeyPem: {exc}") from exc
    key = identifier.public_key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise Failed(f"RSA key of {key.key_size} bits; peers expect 2048 or more")
        return f"RSA {key.key_size}-bit key loads"
    return f"{type(key).__name__} loads"
