"""The suite's HTTP client (aiohttp): exact bytes in, exact bytes and headers out, no redirects.

Checks judge what the instance answered, so nothing here interprets or retries; a network error
becomes a failure that names the URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import yarl

from conformance.report import Failed

# What Mastodon sends when it fetches ActivityPub documents [M app/helpers/json_ld_helper.rb].
AP_ACCEPT = "application/activity+json, application/ld+json"
USER_AGENT = "fedgroups-conformance/0.1 (+https://www.w3.org/TR/activitypub/)"


@dataclass(frozen=True)
class Fetched:
    """One HTTP answer, kept whole so several checks can judge it."""

    method: str
    url: str
    status: int
    headers: dict[str, str]  # lower-case names, repeated headers joined with ", "
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    def describe(self) -> str:
        return f"{self.method} {self.url} answered {self.status} ({self.content_type or 'no type'})"

    def expect_status(self, *allowed: int) -> None:
        if self.status not in allowed:
            raise Failed(f"{self.describe()}, expected {' or '.join(map(str, allowed))}")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise Failed(f"{self.describe()} with a body that is not JSON: {exc}") from exc

    def json_object(self) -> dict[str, Any]:
        document = self.json()
        if not isinstance(document, dict):
            raise Failed(f"{self.describe()} with JSON that is not an object")
        return document


def _headers_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class Http:
    """Unsigned requests; signed ones are built by `conformance.signing` and sent through here."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def get(self, url: str, accept: str = AP_ACCEPT, **headers: str) -> Fetched:
        return await self.request("GET", url, {"accept": accept, **headers})

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> Fetched:
        sent = {"user-agent": USER_AGENT, **headers}
        try:
            async with self.session.request(
                method, _exact(url), headers=sent, data=body, allow_redirects=False
            ) as response:
                content = await response.read()
                return Fetched(method, url, response.status, _headers_of(response), content)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Failed(f"{method} {url} failed: {type(exc).__name__}: {exc}") from exc

    async def wrap(self, method: str, url: str, response: aiohttp.ClientResponse) -> Fetched:
        """A response obtained through bovine's own client, in the same shape as ours."""
        async with response:
            content = await response.read()
            return Fetched(method, url, response.status, _headers_of(response), content)


def _exact(url: str) -> yarl.URL | str:
    """The URL as written: yarl would otherwise decode %3A and %40 in a WebFinger query."""
    return yarl.URL(url, encoded=True) if url.isascii() and " " not in url else url


def new_session(timeout: float) -> aiohttp.ClientSession:
    # auto_decompress on, cookies off: every request stands alone, as between servers.
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
