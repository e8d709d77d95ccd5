"""Who signs the instance's fetches: Mastodon only answers signers it can resolve and webfinger.

Runs after the flow, when the instance has fetched the peer's actors and keys.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from conformance.checks.actor import expect_ap_document
from conformance.checks.discovery import self_links
from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("flow")


async def _webfingers_back(context: Context, owner: str) -> str:
    document = expect_ap_document(await context.http.get(owner))
    if document.get("id") != owner:
        raise Failed(f"the signer's document at {owner} has id {document.get('id')!r}")
    parts = urlsplit(owner)
    handle = f"{document.get('preferredUsername')}@{parts.netloc}"
    url = (f"{parts.scheme}://{parts.netloc}/.well-known/webfinger"
           f"?resource={quote('acct:' + handle, safe=':@')}")  # fmt: skip
    fetched = await context.http.get(url, accept="application/jrd+json")
    if fetched.status != 200:
        raise Failed(
            f"the signer {owner} does not webfinger: acct:{handle} answered {fetched.status}"
        )
    hrefs = [link.get("href") for link in self_links(fetched.json_object())]
    if owner not in hrefs[:1]:
        raise Failed(f"the signer's acct:{handle} resolves to {hrefs}, not {owner}")
    return handle


@check(
    "flow.fetch-signers",
    rule=(
        "signed GETs verify and their signer webfingers back "
        "[M signature_verification.rb require_account_signature!; M process_account_service.rb "
        "check_webfinger!] (interop 2.3, 3.6)"
    ),
)
async def fetch_signers(context: Context) -> str:
    fetches = context.peer.fetches
    if not fetches:
        raise Skipped("the instance made no signed fetch from the peer")
    unverified = [fetch for fetch in fetches if fetch.signer is None]
    if unverified:
        first = unverified[0]
        raise Failed(
            f"{len(unverified)} of {len(fetches)} signed GETs did not verify with bovine, "
            f"e.g. {first.path} signed by key {first.key_id or '(unparseable)'}"
        )
    owners = sorted({str(fetch.signer) for fetch in fetches})
    handles = [await _webfingers_back(context, owner) for owner in owners]
    return f"{len(fetches)} signed GETs verified; signed by {', '.join(handles)}"
