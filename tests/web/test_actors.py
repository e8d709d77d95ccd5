"""Actor and collection documents, served as peers expect them (federation-interop.md 2, 5)."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedgroups.activitypub.vocabulary import ACTOR_CONTEXT
from fedgroups.models import Membership, MembershipState
from fedgroups.settings import Settings
from tests.factories import make_account, make_group, make_remote_actor

pytestmark = pytest.mark.usefixtures("app")
AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


def _assert_rsa_2048(pem: str) -> None:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048


async def test_group_actor_document(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_group(settings, "recovery")
    response = await client.get("/g/recovery", headers=AP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    body = response.json()
    base = "https://groups.test/g/recovery"
    assert body["@context"] == ACTOR_CONTEXT
    assert body["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert {key: body[key] for key in (
        "id", "type", "preferredUsername", "webfinger", "inbox", "outbox", "followers",
        "following", "featured", "attributedTo", "endpoints", "manuallyApprovesFollowers",
        "discoverable", "indexable",
    )} == {
        "id": base,
        "type": "Group",
        "preferredUsername": "recovery",
        "webfinger": "recovery@groups.test",
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "followers": f"{base}/followers",
        "following": f"{base}/following",
        "featured": f"{base}/featured",
        "attributedTo": f"{base}/moderators",
        "endpoints": {"sharedInbox": "https://groups.test/inbox"},
        "manuallyApprovesFollowers": False,
        "discoverable": False,
        "indexable": False,
    }  # fmt: skip
    assert body["name"] == "Recovery Circle"
    assert body["published"].endswith("Z")
    key = body["publicKey"]
    assert key["id"] == f"{base}#main-key"
    assert key["owner"] == base
    _assert_rsa_2048(key["publicKeyPem"])
    terms = set(body["@context"][3])
    emitted_extensions = {"manuallyApprovesFollowers", "featured", "discoverable", "indexable",
                          "postingRestrictedToMods", "sensitive", "moderators"}  # fmt: skip
    assert emitted_extensions <= terms


async def test_private_group_is_locked(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_group(settings, "grief", private=True)
    body = (await client.get("/g/grief", headers=LD)).json()
    assert body["manuallyApprovesFollowers"] is True


async def test_browser_gets_the_group_page(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_group(settings, "recovery")
    response = await client.get("/g/recovery", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Recovery Circle" in response.text
    assert "@recovery@groups.test" in response.text


async def test_unknown_group_is_404_for_both(client: httpx.AsyncClient) -> None:
    assert (await client.get("/g/nobody", headers=AP)).status_code == 404
    assert (await client.get("/g/nobody")).status_code == 404


async def test_application_actor(client: httpx.AsyncClient) -> None:
    response = await client.get("/actor", headers=AP)  # unsigned, as peers fetch it
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    body = response.json()
    assert body["type"] == "Application"
    assert body["id"] == "https://groups.test/actor"
    assert body["preferredUsername"] == "groups.test"
    assert body["inbox"] == "https://groups.test/inbox"
    assert body["outbox"] == "https://groups.test/actor/outbox"
    assert body["manuallyApprovesFollowers"] is True
    assert body["publicKey"]["owner"] == "https://groups.test/actor"
    assert body["publicKey"]["id"] == "https://groups.test/actor#main-key"
    _assert_rsa_2048(body["publicKey"]["publicKeyPem"])
    outbox = (await client.get("/actor/outbox", headers=AP)).json()
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 0


async def test_person_actor(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_account(settings, "alice")
    body = (await client.get("/u/alice", headers=AP)).json()
    assert body["type"] == "Person"
    assert body["preferredUsername"] == "alice"
    assert body["publicKey"]["owner"] == "https://groups.test/u/alice"


@pytest.mark.parametrize("name", ["outbox", "followers", "following"])
async def test_empty_paged_collections(
    client: httpx.AsyncClient, settings: Settings, name: str
) -> None:
    await make_group(settings, "recovery")
    collection_id = f"https://groups.test/g/recovery/{name}"
    head = (await client.get(f"/g/recovery/{name}", headers=AP)).json()
    assert head == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": 0,
        "first": f"{collection_id}?page=1",
        "last": f"{collection_id}?page=1",
    }
    page = (await client.get(f"/g/recovery/{name}?page=1", headers=AP)).json()
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == collection_id
    assert page["orderedItems"] == []
    assert "next" not in page


async def test_followers_pages_hold_twenty_newest_first(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    group = await make_group(settings, "recovery")
    for number in range(25):
        actor = await make_remote_actor("https://remote.example", f"m{number}")
        await Membership.create(group=group, actor=actor, state=MembershipState.APPROVED)
    head = (await client.get("/g/recovery/followers", headers=AP)).json()
    assert head["totalItems"] == 25
    assert head["last"].endswith("?page=2")
    first = (await client.get("/g/recovery/followers?page=1", headers=AP)).json()
    assert len(first["orderedItems"]) == 20
    assert first["orderedItems"][0] == "https://remote.example/users/m24"
    assert first["next"].endswith("?page=2")
    second = (
        await client.get(first["next"].removeprefix("https://groups.test"), headers=AP)
    ).json()
    assert len(second["orderedItems"]) == 5
    assert second["prev"].endswith("?page=1")


async def test_private_group_followers_show_only_a_count(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await make_account(settings, "omar")
    await make_group(settings, "grief", private=True, owner="omar")
    head = (await client.get("/g/grief/followers", headers=AP)).json()
    assert head["totalItems"] == 1
    assert "first" not in head  # Mastodon shows the count and hides the list
    assert (await client.get("/g/grief/followers?page=1", headers=AP)).status_code == 404
    assert (await client.get("/g/grief/outbox", headers=AP)).status_code == 404


async def test_moderators_and_featured(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_account(settings, "omar")
    await make_group(settings, "recovery", owner="omar")
    moderators = (await client.get("/g/recovery/moderators", headers=AP)).json()
    assert moderators["orderedItems"] == ["https://groups.test/u/omar"]
    featured = (await client.get("/g/recovery/featured", headers=AP)).json()
    assert featured["type"] == "OrderedCollection"
    assert featured["orderedItems"] == []


@pytest.mark.parametrize("page", ["0", "-1", "abc", "999999999"])
async def test_bad_page_numbers_are_404(
    client: httpx.AsyncClient, settings: Settings, page: str
) -> None:
    await make_group(settings, "recovery")
    response = await client.get(f"/g/recovery/outbox?page={page}", headers=AP)
    assert response.status_code == 404
