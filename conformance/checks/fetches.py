"""Unsigned and signed fetches: keys readable by anyone, signed GETs (as Mastodon sends) served."""

from __future__ import annotations

from conformance.checks.actor import AS_PROFILE, expect_ap_document
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker
from conformance.signing import public_key_of

check = checker("fetch")


@check(
    "fetch.key-unsigned",
    rule="keyId dereferences without a signature [M fetch_remote_key_service.rb] (interop 3.6)",
)
async def key_unsigned(context: Context) -> str:
    key = (await context.actor()).get("publicKey")
    key_id = key.get("id") if isinstance(key, dict) else None
    if not isinstance(key_id, str):
        raise Skipped("the actor has no publicKey.id")
    document = expect_ap_document(await context.http.get(key_id.split("#")[0]))
    if public_key_of(document, key_id) is None:
        raise Failed(f"the document at {key_id} does not contain the key {key_id}")
    return f"{key_id} readable unsigned"


@check(
    "fetch.ld-accept",
    rule='Accept: application/ld+json; profile="...AS" gets the document [AP §3.2]',
)
async def ld_accept(context: Context) -> str:
    url = await context.actor_url()
    accept = f"application/ld+json; {AS_PROFILE}"
    document = expect_ap_document(await context.http.get(url, accept=accept))
    if document.get("id") != url:
        raise Failed(f"id {document.get('id')!r} differs from {url}")
    return "the actor is served for the AP profile Accept too"


@check(
    "fetch.vary-accept",
    rule=(
        "Vary: Accept where one URL serves AS JSON and HTML [M accounts_controller.rb vary_by] "
        "(interop 8)"
    ),
)
async def vary_accept(context: Context) -> str:
    fetched = await context.get(await context.actor_url())
    vary = [part.strip().lower() for part in fetched.headers.get("vary", "").split(",")]
    if "accept" not in vary and "*" not in vary:
        raise Failed(f"Vary is {fetched.headers.get('vary')!r}: caches may serve HTML to peers")
    return f"Vary: {fetched.headers['vary']}"


@check(
    "fetch.signed-actor",
    rule=(
        "a bovine-signed GET by an instance actor is served [M json_ld_helper.rb build_request] "
        "(interop 3.6)"
    ),
)
async def signed_actor(context: Context) -> str:
    url = await context.actor_url()
    document = expect_ap_document(await context.peer.signed_get(url))
    if document.get("id") != url:
        raise Failed(f"signed fetch returned id {document.get('id')!r}, not {url}")
    return "signed GET of the actor answered 200 with the same document"


@check(
    "fetch.signed-outbox",
    rule=(
        "a bovine-signed GET of a collection is served [M json_ld_helper.rb build_request] "
        "(interop 3.6)"
    ),
)
async def signed_outbox(context: Context) -> str:
    url = await context.actor_field("outbox")
    fetched = await context.peer.signed_get(url)
    if fetched.status == 404 and await context.is_members_only():
        raise Skipped("members-only group: a non-member's signed fetch gets 404")
    document = expect_ap_document(fetched)
    if document.get("id") != url:
        raise Failed(f"signed fetch returned id {document.get('id')!r}, not {url}")
    return "signed GET of the outbox answered 200"


@check("fetch.html", rule="browsers get HTML at the actor URL, not AS JSON [AP §3.2] (interop 8)")
async def html(context: Context) -> str:
    url = await context.actor_url()
    fetched = await context.http.get(url, accept="text/html")
    if 300 <= fetched.status < 400:
        return f"redirects browsers to {fetched.headers.get('location')}"
    fetched.expect_status(200)
    if fetched.media_type != "text/html":
        raise Failed(f"{fetched.describe()} to Accept: text/html")
    return "serves a page to Accept: text/html"
