"""The group's actor document: what Mastodon, Lemmy and Fedify need to accept it as a group."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from conformance.checks.discovery import self_links
from conformance.http import Fetched
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("actor")

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PROFILE = f'profile="{AS_CONTEXT}"'
USERNAME_RE = re.compile(r"^[a-z0-9_]+([.-]+[a-z0-9_]+)*$", re.IGNORECASE)  # [M account.rb]
REQUIRED_URLS = ("inbox", "outbox", "followers")

# Terms the published contexts define (w3c/activitystreams ns/activitystreams.jsonld,
# w3c-ccg/security-vocab contexts/security-v1.jsonld, FEP-2c59's webfinger context); anything
# else an actor uses must come from an inline context, or JSON-LD processors drop it.
# fmt: off
AS_TERMS = frozenset((
    "accuracy", "actor", "alsoKnownAs", "altitude", "anyOf", "attachment", "attributedTo",
    "audience", "bcc", "bto", "cc", "closed", "content", "contentMap", "context", "current",
    "deleted", "describes", "duration", "endTime", "endpoints", "first", "followers",
    "following", "formerType", "generator", "height", "href", "hreflang", "icon", "id",
    "image", "inReplyTo", "inbox", "instrument", "items", "last", "latitude", "liked", "likes",
    "location", "longitude", "mediaType", "name", "nameMap", "next",
    "oauthAuthorizationEndpoint", "oauthTokenEndpoint", "object", "oneOf", "orderedItems",
    "origin", "outbox", "partOf", "preferredUsername", "prev", "preview", "provideClientKey",
    "proxyUrl", "published", "radius", "rel", "relationship", "replies", "result",
    "sharedInbox", "shares", "signClientKey", "source", "startIndex", "startTime", "streams",
    "subject", "summary", "summaryMap", "tag", "target", "to", "totalItems", "type", "units",
    "updated", "uploadMedia", "url", "width",
))
# fmt: on
KNOWN_CONTEXTS = {
    AS_CONTEXT: AS_TERMS,
    "https://w3id.org/security/v1": frozenset(
        [
            "publicKey",
            "publicKeyPem",
            "owner",
            "signature",
            "created",
            "creator",
            "expires",
            "revoked",
        ]
    ),
    "https://purl.archive.org/socialweb/webfinger": frozenset({"webfinger"}),
}


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
    "actor.terms-defined",
    rule="every extension term is defined in @context [FY vocab-tools codec.ts] (interop 2.1)",
)
async def actor_terms_defined(context: Context) -> str:
    document = await context.actor()
    value = document.get("@context")
    contexts = value if isinstance(value, list) else [value]
    defined: set[str] = set()
    unknown = []
    for item in contexts:
        if isinstance(item, dict):
            defined.update(item)
        elif item in KNOWN_CONTEXTS:
            defined.update(KNOWN_CONTEXTS[item])
        else:
            unknown.append(item)
    undefined = sorted(key for key in document if not key.startswith("@") and key not in defined)
    if undefined and unknown:
        raise Skipped(f"{undefined} may come from contexts this suite does not know: {unknown}")
    if undefined:
        raise Failed(f"terms {undefined} are not defined in @context: Fedify and other JSON-LD "
                     "processors drop them")  # fmt: skip
    return f"all {len(document) - 1} terms defined"


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
    "actor.group-fields",
    rule=(
        "sharedInbox, following, featured, moderators (attributedTo), manuallyApprovesFollowers, "
        "discoverable, indexable [M process_account_service.rb; FEP-1b12] (interop 2.2)"
    ),
)
async def actor_group_fields(context: Context) -> str:
    document = await context.actor()
    host = urlsplit(str(document.get("id"))).netloc
    endpoints = document.get("endpoints")
    urls = {
        "endpoints.sharedInbox": endpoints.get("sharedInbox")
        if isinstance(endpoints, dict)
        else None,
        "following": document.get("following"),
        "featured": document.get("featured"),
    }
    wrong = [name for name, url in urls.items()
             if not isinstance(url, str) or urlsplit(url).netloc != host]  # fmt: skip
    moderators = document.get("attributedTo")
    if not isinstance(moderators, str | list):
        wrong.append("attributedTo (the moderators collection)")
    flags = ("manuallyApprovesFollowers", "discoverable", "indexable")
    wrong += [f"{flag} (a boolean)" for flag in flags if not isinstance(document.get(flag), bool)]
    if not isinstance(document.get("name"), str) or not document["name"]:
        wrong.append("name")
    if wrong:
        raise Failed(f"missing or wrong: {', '.join(wrong)}")
    return f"{', '.join(urls)}, attributedTo, {', '.join(flags)} and name present"


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
