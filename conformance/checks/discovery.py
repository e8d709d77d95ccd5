"""Discovery: WebFinger, host-meta and NodeInfo, the doors every peer knocks on first."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from conformance.http import Fetched
from conformance.report import Failed
from conformance.runner import Context, checker

check = checker("discovery")

JRD = "application/jrd+json"
# Mastodon compares the self link's type with these exact strings [M app/lib/webfinger.rb].
AP_LINK_TYPES = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
)
XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/{}"
SOFTWARE_NAME = re.compile(r"^[a-z0-9-]+$")


def self_links(document: dict[str, Any]) -> list[dict[str, Any]]:
    links = document.get("links")
    if not isinstance(links, list):
        raise Failed("the JRD has no links array")
    return [link for link in links if isinstance(link, dict) and link.get("rel") == "self"]


async def _jrd(context: Context) -> dict[str, Any]:
    fetched = await context.webfinger()
    fetched.expect_status(200)
    return fetched.json_object()


@check("webfinger.acct", rule="RFC 7033 §4.2; [M app/lib/webfinger.rb] (interop 1.1)")
async def webfinger_acct(context: Context) -> str:
    fetched = await context.webfinger()
    fetched.expect_status(200)
    if fetched.media_type != JRD:
        raise Failed(f"{fetched.describe()}: the JRD must be served as {JRD}")
    subject = fetched.json_object().get("subject")
    wanted = f"acct:{context.options.handle}"
    if not isinstance(subject, str) or not subject:
        raise Failed("the JRD has no subject")
    if subject.lower() != wanted.lower():
        raise Failed(f"subject is {subject!r}, not {wanted!r}")
    return f"{wanted} answered 200 {JRD}, subject {subject}"


@check("webfinger.encoded", rule="RFC 7033 §4.1 percent-encoded resource; [M app/lib/webfinger.rb]")
async def webfinger_encoded(context: Context) -> str:
    resource = quote(f"acct:{context.options.handle}", safe="")
    fetched = await context.get(
        context.url(f"/.well-known/webfinger?resource={resource}"), accept=JRD
    )
    fetched.expect_status(200)
    raw = await _jrd(context)
    if fetched.json_object().get("subject") != raw.get("subject"):
        raise Failed("the percent-encoded resource gave a different subject than the raw one")
    return "acct%3A...%40... resolves like the raw form"


@check(
    "webfinger.self-link",
    rule=(
        "exactly one rel=self link of an ActivityPub type [M app/lib/webfinger.rb; MD "
        "spec/webfinger.md]"
    ),
)
async def webfinger_self_link(context: Context) -> str:
    links = self_links(await _jrd(context))
    if len(links) != 1:
        raise Failed(f"{len(links)} rel=self links; Mastodon takes the first, so emit exactly one")
    link = links[0]
    if link.get("type") not in AP_LINK_TYPES:
        raise Failed(f"self link type {link.get('type')!r} is none of {AP_LINK_TYPES}")
    href = link.get("href")
    if not isinstance(href, str) or not href.startswith(("https://", "http://")):
        raise Failed(f"self link href {href!r} is not an absolute http(s) URL")
    return f"one self link, {link['type']}, {href}"


@check("webfinger.cors", rule="RFC 7033 §5 (Access-Control-Allow-Origin: *)")
async def webfinger_cors(context: Context) -> str:
    fetched = await context.webfinger()
    fetched.expect_status(200)
    origin = fetched.headers.get("access-control-allow-origin")
    if origin != "*":
        raise Failed(f"Access-Control-Allow-Origin is {origin!r}, not '*'")
    return "Access-Control-Allow-Origin: *"


@check(
    "webfinger.actor-url",
    rule="resource=<actor URL> resolves too [M app/lib/webfinger_resource.rb] (interop 1.1)",
)
async def webfinger_actor_url(context: Context) -> str:
    actor_url = await context.actor_url()
    url = context.url(f"/.well-known/webfinger?resource={quote(actor_url, safe='')}")
    fetched = await context.get(url, accept=JRD)
    fetched.expect_status(200)
    hrefs = [link.get("href") for link in self_links(fetched.json_object())]
    if hrefs != [actor_url]:
        raise Failed(f"resource={actor_url} gave self links {hrefs}")
    return "the actor URL resolves to the same actor"


@check(
    "webfinger.unknown", rule="404 for an unknown account, RFC 7033 §4.2; [M app/lib/webfinger.rb]"
)
async def webfinger_unknown(context: Context) -> str:
    resource = f"acct:no_such_group_{secrets.token_hex(4)}@{context.options.domain}"
    fetched = await context.get(
        context.url(f"/.well-known/webfinger?resource={resource}"), accept=JRD
    )
    fetched.expect_status(404)
    return "an unknown account answers 404"


@check(
    "webfinger.case",
    rule="names resolve case-insensitively [M process_account_service.rb casecmp] (interop 1.1)",
)
async def webfinger_case(context: Context) -> str:
    name, _, domain = context.options.handle.partition("@")
    shouted = f"acct:{name.swapcase()}@{domain}"
    fetched = await context.get(
        context.url(f"/.well-known/webfinger?resource={quote(shouted, safe=':@')}"), accept=JRD
    )
    fetched.expect_status(200)
    subject, canonical = fetched.json_object().get("subject"), (await _jrd(context)).get("subject")
    if subject != canonical:
        raise Failed(f"{shouted} gave subject {subject!r}, not the canonical {canonical!r}")
    return f"{shouted} resolves to {canonical}"


@check("webfinger.malformed", rule="400 when resource is absent or malformed, RFC 7033 §4.2")
async def webfinger_malformed(context: Context) -> str:
    for query in ("", "?resource=not%20a%20resource"):
        fetched = await context.get(context.url(f"/.well-known/webfinger{query}"), accept=JRD)
        fetched.expect_status(400)
    return "no resource and a malformed one both answer 400"


@check(
    "host-meta",
    rule="RFC 6415 §3 lrdd template; [M app/controllers/well_known/host_meta_controller.rb]",
)
async def host_meta(context: Context) -> str:
    fetched = await context.get(context.url("/.well-known/host-meta"), accept="application/xrd+xml")
    fetched.expect_status(200)
    if fetched.media_type != "application/xrd+xml":
        raise Failed(f"{fetched.describe()}: host-meta must be application/xrd+xml")
    try:
        root = ElementTree.fromstring(fetched.body)
    except ElementTree.ParseError as exc:
        raise Failed(f"host-meta is not XML: {exc}") from exc
    templates = [
        link.get("template", "") for link in root.iter(f"{XRD_NS}Link") if link.get("rel") == "lrdd"
    ]
    if not any("{uri}" in t and "/.well-known/webfinger" in t for t in templates):
        raise Failed(f"no lrdd Link with a WebFinger template containing {{uri}}: {templates}")
    return f"lrdd template {templates[0]}"


async def _nodeinfo_links(context: Context) -> dict[str, str]:
    fetched = await context.get(context.url("/.well-known/nodeinfo"), accept="application/json")
    fetched.expect_status(200)
    links = fetched.json_object().get("links")
    if not isinstance(links, list):
        raise Failed("/.well-known/nodeinfo has no links array")
    return {
        str(link.get("rel")): str(link.get("href"))
        for link in links
        if isinstance(link, dict) and isinstance(link.get("href"), str)
    }


@check(
    "nodeinfo.discovery", rule="NodeInfo protocol §3 (/.well-known/nodeinfo links) (interop 1.3)"
)
async def nodeinfo_discovery(context: Context) -> str:
    links = await _nodeinfo_links(context)
    versions = [v for v in ("2.0", "2.1") if NODEINFO_REL.format(v) in links]
    if not versions:
        raise Failed(f"no NodeInfo 2.0 or 2.1 schema link among rels {sorted(links)}")
    return f"links to NodeInfo {' and '.join(versions)}"


def _check_nodeinfo(document: dict[str, Any], version: str) -> None:
    if document.get("version") != version:
        raise Failed(f"version is {document.get('version')!r}, not {version!r}")
    software = document.get("software")
    if not isinstance(software, dict):
        raise Failed("software is missing")
    if not SOFTWARE_NAME.match(str(software.get("name", ""))):
        raise Failed(f"software.name {software.get('name')!r} does not match ^[a-z0-9-]+$")
    if not isinstance(software.get("version"), str):
        raise Failed("software.version is required by the schema")
    if version == "2.0" and set(software) - {"name", "version"}:
        raise Failed(f"the 2.0 schema allows only name and version in software: {sorted(software)}")
    if "activitypub" not in (document.get("protocols") or []):
        raise Failed(f"protocols {document.get('protocols')!r} does not list activitypub")
    services = document.get("services")
    if not isinstance(services, dict) or not all(
        isinstance(services.get(k), list) for k in ("inbound", "outbound")
    ):
        raise Failed("services must hold inbound and outbound arrays")
    if not isinstance(document.get("openRegistrations"), bool):
        raise Failed("openRegistrations must be a boolean")
    usage = document.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("users"), dict):
        raise Failed("usage.users must be an object")
    if not isinstance(document.get("metadata"), dict):
        raise Failed("metadata must be an object")


def _nodeinfo_check(version: str) -> None:
    @check(
        f"nodeinfo.{version}",
        rule=(
            f"NodeInfo {version} schema; FEP-f1d5; [L crates/routes/src/nodeinfo.rs] (interop 1.3)"
        ),
    )
    async def nodeinfo_document(context: Context) -> str:
        links = await _nodeinfo_links(context)
        href = links.get(NODEINFO_REL.format(version))
        if href is None:
            raise Failed(f"/.well-known/nodeinfo does not link a {version} document")
        fetched: Fetched = await context.get(href, accept="application/json")
        fetched.expect_status(200)
        if fetched.media_type != "application/json":
            raise Failed(f"{fetched.describe()}: NodeInfo is served as application/json")
        document = fetched.json_object()
        _check_nodeinfo(document, version)
        software = document["software"]
        return f"{href}: {software['name']} {software['version']}"


_nodeinfo_check("2.0")
_nodeinfo_check("2.1")
