"""Discovery exactly as Mastodon, Lemmy and Fedify read it (federation-interop.md section 1)."""

from __future__ import annotations

import httpx
import pytest

from fedgroups.settings import Settings
from tests.factories import make_group

pytestmark = pytest.mark.usefixtures("app")


async def test_webfinger_acct_resource(client: httpx.AsyncClient, settings: Settings) -> None:
    await make_group(settings, "recovery")
    response = await client.get(
        "/.well-known/webfinger",
        params={"resource": "acct:recovery@groups.test"},
        headers={"Accept": "application/jrd+json, application/json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jrd+json"
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["subject"] == "acct:recovery@groups.test"
    assert body["aliases"] == ["https://groups.test/g/recovery"]
    self_links = [link for link in body["links"] if link["rel"] == "self"]
    assert self_links == [
        {
            "rel": "self",
            "type": "application/activity+json",
            "href": "https://groups.test/g/recovery",
            "properties": {"https://www.w3.org/ns/activitystreams#type": "Group"},
        }
    ]
    profile = [link for link in body["links"] if link["rel"].endswith("profile-page")]
    assert profile[0]["type"] == "text/html"


@pytest.mark.parametrize(
    "resource",
    [
        "acct:RECOVERY@groups.test",  # case-insensitive, canonical case in the answer
        "acct%3Arecovery%40groups.test",  # percent-encoded, as some clients send it
        "recovery@groups.test",
        "https://groups.test/g/recovery",  # the actor URL itself
    ],
)
async def test_webfinger_resource_forms(
    client: httpx.AsyncClient, settings: Settings, resource: str
) -> None:
    await make_group(settings, "recovery")
    url = f"/.well-known/webfinger?resource={resource}"
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "acct:recovery@groups.test"


async def test_webfinger_instance_actor(client: httpx.AsyncClient) -> None:
    for resource in (
        "acct:groups.test@groups.test",
        "https://groups.test/",
        "https://groups.test/actor",
    ):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status_code == 200, resource
        body = response.json()
        assert body["subject"] == "acct:groups.test@groups.test"
        (link,) = [link for link in body["links"] if link["rel"] == "self"]
        assert link["href"] == "https://groups.test/actor"
        assert link["properties"]["https://www.w3.org/ns/activitystreams#type"] == "Application"


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("acct:nobody@groups.test", 404),
        ("acct:recovery@elsewhere.example", 404),
        ("https://groups.test/g/nobody", 404),
        ("", 400),
        ("acct:no-at-sign", 400),
    ],
)
async def test_webfinger_errors(client: httpx.AsyncClient, resource: str, status: int) -> None:
    response = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == status


async def test_host_meta_xml_and_json(client: httpx.AsyncClient) -> None:
    xml = await client.get("/.well-known/host-meta")
    assert xml.headers["content-type"] == "application/xrd+xml"
    assert (
        '<Link rel="lrdd" template="https://groups.test/.well-known/webfinger?resource={uri}"/>'
        in xml.text
    )
    as_json = await client.get("/.well-known/host-meta", headers={"Accept": "application/json"})
    assert as_json.json() == {
        "links": [
            {"rel": "lrdd", "template": "https://groups.test/.well-known/webfinger?resource={uri}"}
        ]
    }


async def test_nodeinfo_discovery(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/nodeinfo")
    assert response.status_code == 200
    assert response.json() == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://groups.test/nodeinfo/2.1",
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": "https://groups.test/nodeinfo/2.0",
            },
            {
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "href": "https://groups.test/actor",
            },
        ]
    }


@pytest.mark.parametrize("version", ["2.0", "2.1"])
async def test_nodeinfo_documents(
    client: httpx.AsyncClient, settings: Settings, version: str
) -> None:
    await make_group(settings, "recovery")
    await make_group(settings, "grief")
    response = await client.get(f"/nodeinfo/{version}")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'
    )
    body = response.json()
    assert body["version"] == version
    assert body["software"]["name"] == "fedgroups"
    assert ("repository" in body["software"]) is (version == "2.1")
    assert body["protocols"] == ["activitypub"]
    assert body["services"] == {"inbound": [], "outbound": []}
    assert body["openRegistrations"] is True  # FEDGROUPS_REGISTRATIONS defaults to open
    assert set(body["usage"]) == {"users", "localPosts", "localComments"}
    assert set(body["usage"]["users"]) == {"total", "activeMonth", "activeHalfyear"}
    assert body["metadata"]["groupCount"] == 2


async def test_unknown_nodeinfo_version(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nodeinfo/1.0")).status_code == 404
