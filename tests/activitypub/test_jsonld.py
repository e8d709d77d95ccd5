"""JSON-LD: the offline context loader, and proof that every term we emit survives expansion.

Every test here runs with sockets disabled, so any network access by pyld fails the test.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fedgroups.activitypub import jsonld
from fedgroups.activitypub.render import (
    ActorUrls,
    GroupProfile,
    render_application_actor,
    render_collection,
    render_collection_page,
    render_group_actor,
    render_person_actor,
    render_unpaged_collection,
)
from fedgroups.activitypub.vocabulary import (
    ACTOR_CONTEXT,
    AS_NS,
    EXTENSION_TERMS,
    PUBLIC,
    SECURITY_V1,
    WEBFINGER_CONTEXT,
)

PACKAGE_DIR = Path(jsonld.__file__).parents[1]
CONTEXTS_DIR = Path(jsonld.__file__).parent / "contexts"
BASE = "https://groups.test"
PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
    "-----END PUBLIC KEY-----\n"
)
PUBLISHED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


class NetworkUsedError(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NetworkUsedError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def group_urls() -> ActorUrls:
    return ActorUrls.for_actor(f"{BASE}/groups/grief-circle", BASE)


def group_actor(*, is_private: bool = True) -> dict[str, Any]:
    return render_group_actor(
        GroupProfile(
            urls=group_urls(),
            username="grief-circle",
            domain="groups.test",
            name="Grief circle",
            summary_html="<p>A weekly space to talk about loss.</p>",
            profile_url=f"{BASE}/g/grief-circle",
            published=PUBLISHED,
            is_private=is_private,
            public_key_pem=PEM,
        )
    )


def person_actor() -> dict[str, Any]:
    return render_person_actor(
        ActorUrls.for_actor(f"{BASE}/users/robin", BASE),
        username="robin",
        domain="groups.test",
        display_name="Robin",
        summary_html="<p>Here to listen.</p>",
        published=PUBLISHED,
        public_key_pem=PEM,
    )


def application_actor() -> dict[str, Any]:
    return render_application_actor(f"{BASE}/actor", "groups.test", BASE, PEM)


def collection_page() -> dict[str, Any]:
    urls = group_urls()
    announce = {
        "id": f"{urls.ap_id}/activities/1",
        "type": "Announce",
        "actor": urls.ap_id,
        "object": f"{BASE}/users/robin/posts/7",
        "to": [PUBLIC],
        "cc": [urls.followers],
        "published": "2024-05-02T08:00:00Z",
    }
    return render_collection_page(
        urls.outbox, 2, [announce, f"{urls.ap_id}/activities/0"], has_next=True
    )


RENDERED: list[Any] = [
    pytest.param(group_actor, id="group-private"),
    pytest.param(lambda: group_actor(is_private=False), id="group-public"),
    pytest.param(person_actor, id="person"),
    pytest.param(application_actor, id="application"),
    pytest.param(lambda: render_collection(group_urls().followers, 45), id="collection"),
    pytest.param(
        lambda: render_collection(group_urls().followers, 0, paged=False), id="collection-unpaged"
    ),
    pytest.param(collection_page, id="collection-page"),
    pytest.param(
        lambda: render_collection_page(group_urls().outbox, 1, [], has_next=False),
        id="collection-page-empty",
    ),
    pytest.param(
        lambda: render_unpaged_collection(group_urls().moderators, [f"{BASE}/users/robin"]),
        id="unpaged-collection",
    ),
]


# --- the loader ---------------------------------------------------------------------------


def test_guard_refuses_network_access() -> None:
    # Proves the autouse guard is live, so the other tests would catch a fetch.
    with pytest.raises(NetworkUsedError):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(NetworkUsedError), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))


@pytest.mark.parametrize("url", sorted(jsonld.CONTEXT_FILES))
def test_loader_serves_each_bundled_context(url: str) -> None:
    loaded = jsonld.document_loader(url)

    assert loaded["contextUrl"] is None
    assert loaded["documentUrl"] == url
    on_disk = json.loads((CONTEXTS_DIR / jsonld.CONTEXT_FILES[url]).read_text(encoding="utf-8"))
    assert loaded["document"] == on_disk
    assert "@context" in loaded["document"]
    # And pyld accepts it as a context.
    node = {"@id": f"{BASE}/x", "@type": f"{BASE}/T"}
    assert jsonld.expand({"@context": url, **node}) == [{**node, "@type": [f"{BASE}/T"]}]


@pytest.mark.parametrize(
    "url",
    [
        "https://unbundled.example/ns",
        "http://www.w3.org/ns/activitystreams",  # exact match only: no scheme or slash variants
        "https://www.w3.org/ns/activitystreams/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/context.jsonld",
        "file:///etc/passwd",
    ],
)
def test_loader_treats_unknown_contexts_as_empty(url: str) -> None:
    assert jsonld.document_loader(url, {"headers": {}}) == {
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {}},
    }


def test_loader_hands_out_fresh_copies() -> None:
    first = jsonld.document_loader(AS_NS)
    first["document"]["@context"]["inbox"] = "https://evil.example/inbox"

    assert jsonld.document_loader(AS_NS)["document"]["@context"]["inbox"] == {
        "@id": "ldp:inbox",
        "@type": "@id",
    }


def test_expansion_with_an_unknown_context_keeps_known_terms() -> None:
    document = {
        "@context": [AS_NS, "https://unbundled.example/ns"],
        "id": "https://remote.example/notes/1",
        "type": "Note",
        "content": "hello",
        "customTerm": "only the unbundled context defines this",
    }

    [expanded] = jsonld.expand(document)

    assert expanded["https://www.w3.org/ns/activitystreams#content"] == [{"@value": "hello"}]
    assert jsonld.undefined_terms(document) == {"customTerm"}


def test_invalid_json_ld_raises_our_error() -> None:
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand({"@context": 5, "name": "x"})


# --- every term we emit is defined --------------------------------------------------------


@pytest.mark.parametrize("render", RENDERED)
def test_rendered_documents_define_every_term(render: Callable[[], dict[str, Any]]) -> None:
    assert jsonld.undefined_terms(render()) == set()


# --- undefined_terms catches what expansion drops -----------------------------------------


def test_made_up_top_level_term_is_reported() -> None:
    document = {
        "@context": AS_NS,
        "id": "https://groups.test/notes/1",
        "type": "Note",
        "content": "hello",
        "moodRing": "teal",
    }
    assert jsonld.undefined_terms(document) == {"moodRing"}


def test_made_up_nested_terms_are_reported_once() -> None:
    document = {
        **group_actor(),
        "endpoints": {"sharedInbox": f"{BASE}/inbox", "pigeonPost": f"{BASE}/coop"},
        # Only the outer key: `name` inside it is a defined term lost with its parent.
        "supportLevel": {"name": "gentle"},
    }
    assert jsonld.undefined_terms(document) == {"pigeonPost", "supportLevel"}


def test_actor_without_its_extension_map_reports_every_extension_term() -> None:
    document = {**group_actor(), "@context": [AS_NS, SECURITY_V1, WEBFINGER_CONTEXT]}
    assert jsonld.undefined_terms(document) == {
        "discoverable",
        "featured",
        "indexable",
        "manuallyApprovesFollowers",
        "moderators",
        "postingRestrictedToMods",
        "sensitive",
    }


def test_webfinger_needs_its_context() -> None:
    document = {**person_actor(), "@context": [AS_NS, SECURITY_V1, EXTENSION_TERMS]}
    assert jsonld.undefined_terms(document) == {"webfinger"}


def test_null_values_count_as_dropped() -> None:
    document = {"@context": AS_NS, "id": f"{BASE}/notes/1", "type": "Note", "summary": None}
    assert jsonld.undefined_terms(document) == {"summary"}


# --- compaction ---------------------------------------------------------------------------

KEPT = (
    "inbox",
    "outbox",
    "followers",
    "publicKey",
    "manuallyApprovesFollowers",
    "featured",
    "discoverable",
)


def test_group_actor_compacts_back_to_itself() -> None:
    actor = group_actor()

    compacted = jsonld.compact(actor, ACTOR_CONTEXT)

    for term in KEPT:
        assert compacted[term] == actor[term], term
    assert compacted == actor


def test_group_actor_compacted_against_activitystreams_keeps_the_properties() -> None:
    actor = group_actor()
    urls = group_urls()

    compacted = jsonld.compact(actor, AS_NS)

    # AS terms keep their names; extension properties survive under their IRIs.
    assert compacted["inbox"] == urls.inbox
    assert compacted["outbox"] == urls.outbox
    assert compacted["followers"] == urls.followers
    assert compacted["https://w3id.org/security#publicKey"] == {
        "id": f"{urls.ap_id}#main-key",
        "https://w3id.org/security#owner": {"id": urls.ap_id},
        "https://w3id.org/security#publicKeyPem": PEM,
    }
    assert compacted["as:manuallyApprovesFollowers"] is True
    assert compacted["http://joinmastodon.org/ns#featured"] == {"id": urls.featured}
    assert compacted["http://joinmastodon.org/ns#discoverable"] is False


# --- packaging and provenance -------------------------------------------------------------

SOURCE_ROW = re.compile(r"^\| (https?://\S+) \| (\S+\.jsonld) \| .* \| ([0-9a-f]{64}) \|$", re.M)


def test_every_bundled_file_is_served_and_has_a_recorded_source() -> None:
    on_disk = {path.name for path in CONTEXTS_DIR.glob("*.jsonld")}
    rows = SOURCE_ROW.findall((CONTEXTS_DIR / "SOURCES.md").read_text(encoding="utf-8"))

    assert set(jsonld.CONTEXT_FILES.values()) == on_disk
    assert {name for _, name, _ in rows} == on_disk
    for url, name, digest in rows:
        assert jsonld.CONTEXT_FILES[url] == name
        assert hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_pyld_is_imported_only_by_the_jsonld_module() -> None:
    importers = {
        path.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+pyld\b", path.read_text(encoding="utf-8"), re.M)
    }
    assert importers == {"activitypub/jsonld.py"}
