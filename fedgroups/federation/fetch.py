"""Fetch one remote ActivityStreams document safely: guarded, bounded, typed, id-checked.

Covers T20-T22 (id, media type, redirects), T25/T27 (schemes), T30/T33/T34 (body abuse).
"""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, NoReturn
from urllib.parse import urljoin

import httpx

from fedgroups.errors import FetchError
from fedgroups.federation.addresses import CheckedURL, check_url
from fedgroups.federation.offline import check_online

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_PROFILE}"'
# Only encodings we decode ourselves under the size cap (see _BoundedDecoder).
ACCEPT_ENCODING = "gzip, deflate"
MAX_DEPTH = 64
REDIRECTS = frozenset({301, 302, 303, 307, 308})

SignGet = Callable[[str, str], Mapping[str, str]]


class FetchStatusError(FetchError):
    """The peer answered with a non-2xx status; `status` tells callers which."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url} answered HTTP {status}")
        self.url = url
        self.status = status


class GoneError(FetchStatusError):
    """HTTP 410: the document was deleted for good (callers drop their copy)."""


@dataclass(frozen=True)
class FetchedDocument:
    url: str  # final URL after redirects, canonical, without fragment
    data: dict[str, Any]
    status: int


async def fetch_document(
    client: httpx.AsyncClient,
    url: str,
    *,
    sign_get: SignGet | None = None,
    max_bytes: int = 1_048_576,
    total_timeout: float = 30.0,
    max_redirects: int = 3,
) -> FetchedDocument:
    """GET `url` as ActivityStreams; raise FetchError (or a subclass) on any failure."""
    return await _fetch(client, url, sign_get, max_bytes, total_timeout, max_redirects, True)


async def fetch_json(
    client: httpx.AsyncClient, url: str, *, max_bytes: int = 65_536, total_timeout: float = 10.0
) -> FetchedDocument:
    """GET a plain JSON document (NodeInfo), with the same guards but no ActivityStreams rules."""
    return await _fetch(client, url, None, max_bytes, total_timeout, 3, False)


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    sign_get: SignGet | None,
    max_bytes: int,
    total_timeout: float,
    max_redirects: int,
    activity_streams: bool,
) -> FetchedDocument:
    check_online(url)
    target = _without_fragment(check_url(url))
    try:
        # One deadline over every hop and the body: per-read timeouts alone let a peer
        # trickle a byte every few seconds forever (T29, Mastodon CVE-2023-36461).
        async with asyncio.timeout(total_timeout):
            return await _follow(
                client, target, sign_get, max_bytes, max_redirects, activity_streams
            )
    except TimeoutError as exc:
        raise FetchError(f"fetching {url} took longer than {total_timeout} s") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"fetching {url} timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"fetching {url} failed: {type(exc).__name__}: {exc}") from exc


async def _follow(
    client: httpx.AsyncClient,
    target: CheckedURL,
    sign_get: SignGet | None,
    max_bytes: int,
    max_redirects: int,
    activity_streams: bool,
) -> FetchedDocument:
    accept = ACCEPT if activity_streams else "application/json"
    for _hop in range(max_redirects + 1):
        headers = {"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
        if sign_get is not None:  # signed afresh per hop: each has its own Host/target
            headers.update(sign_get("GET", target.url))
        async with client.stream("GET", target.url, headers=headers) as response:
            if response.status_code in REDIRECTS:
                target = _next_hop(target, response)
                continue
            _check_response(target.url, response, max_bytes, activity_streams)
            body = await _read_capped(response, max_bytes)
            status = response.status_code
        data = parse_document(body)
        if activity_streams:
            _check_id(data, target)
        return FetchedDocument(url=target.url, data=data, status=status)
    raise FetchError(f"more than {max_redirects} redirects")


def _without_fragment(checked: CheckedURL) -> CheckedURL:
    # The fragment never goes on the wire, so the document cannot be "at" it.
    return checked._replace(parts=checked.parts._replace(fragment=""))


def _next_hop(current: CheckedURL, response: httpx.Response) -> CheckedURL:
    location = response.headers.get("Location")
    if not location:
        raise FetchError(f"{current.url} redirected without a Location")
    nxt = _without_fragment(check_url(urljoin(current.url, location)))  # guard every hop
    if current.scheme == "https" and nxt.scheme == "http":
        raise FetchError(f"redirect from https to http refused: {nxt.url}")
    return nxt


def _check_response(
    url: str, response: httpx.Response, max_bytes: int, activity_streams: bool
) -> None:
    status = response.status_code
    if status == 410:
        raise GoneError(url, status)
    if not 200 <= status < 300:
        raise FetchStatusError(url, status)
    if activity_streams:
        _check_media_type(url, response.headers)
    length = response.headers.get("Content-Length")
    # Refused before reading. Compressed JSON is never larger than its decoded form, so
    # an encoded length above the cap is over the decoded cap as well.
    if length is not None and (not length.isdigit() or int(length) > max_bytes):
        raise FetchError(f"{url} announces {length} bytes, cap is {max_bytes}")


def _check_media_type(url: str, headers: httpx.Headers) -> None:
    # Only AS media types: a JSON file uploaded to the peer as media must not pass as an
    # actor or post of that peer (T21, Mastodon CVE-2024-25623).
    message = Message()
    message["Content-Type"] = headers.get("Content-Type", "")
    media_type = message.get_content_type()  # lower-cased; text/plain when malformed
    profile = message.get_param("profile")
    profiles = profile.split() if isinstance(profile, str) else []
    ok = media_type == "application/activity+json" or (
        media_type == "application/ld+json" and AS_PROFILE in profiles
    )
    if not ok:
        raise FetchError(f"{url} is not ActivityStreams: {headers.get('Content-Type')!r}")
    if headers.get("Content-Disposition", "").strip().lower().startswith("attachment"):
        raise FetchError(f"{url} is served as a download, not a document")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    decoder = _BoundedDecoder(response.headers.get("Content-Encoding", ""), max_bytes)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.feed(chunk)
    body += decoder.finish()
    return bytes(body)


class _BoundedDecoder:
    """Decodes gzip/deflate never producing more than the cap (T34, compression bombs).

    httpx's own decoders inflate each network read in full, so one 64 KiB read of a
    bomb becomes ~64 MiB in memory before anyone can count it; `max_length` stops
    zlib at the cap instead.
    """

    def __init__(self, encoding: str, max_bytes: int) -> None:
        self._left = max_bytes
        self._raw_deflate = False
        name = encoding.strip().lower()
        if name in ("", "identity"):
            self._zlib = None
        elif name in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            self._zlib = zlib.decompressobj()
            self._raw_deflate = True  # some servers send raw deflate; fall back once
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            return self._take(data)
        try:
            out = self._zlib.decompress(data, self._left + 1)
        except zlib.error:
            if not self._raw_deflate:
                raise FetchError("corrupt compressed body") from None
            self._raw_deflate = False
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data)
        self._raw_deflate = False
        return self._take(out)

    def finish(self) -> bytes:
        if self._zlib is None:
            return b""
        if not self._zlib.eof:
            raise FetchError("compressed body is truncated")
        return self._take(self._zlib.flush())

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise FetchError("document exceeds the size cap")
        return data


def parse_document(body: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, one object, no duplicate keys, no NaN, nesting <= MAX_DEPTH."""
    try:
        text = body.decode("utf-8")  # strict: invalid UTF-8 raises (T32)
    except UnicodeDecodeError as exc:
        raise FetchError(f"document is not UTF-8: {exc.reason}") from None
    if _nests_too_deep(text):
        raise FetchError(f"document nests deeper than {MAX_DEPTH} levels")  # T30
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise FetchError("document is not valid JSON: it starts with a BOM")
    try:
        data = _STRICT_JSON.decode(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, int-digit limit
        raise FetchError(f"document is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FetchError("document is not a JSON object")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"actor": A, "actor": B}: checks would read one, processing the other (T33).
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: now find which key, still in linear time
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# One decoder for every document (json.loads would build one, and its scanner, per call).
_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _nests_too_deep(text: str) -> bool:
    # At most MAX_DEPTH opening brackets cannot nest deeper: most documents skip the scan.
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return False
    return _nesting_depth(text) > MAX_DEPTH


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings, without recursion (the C parser recurses).

    Unterminated strings only add brackets, so malformed input can over-count, never
    under-count what json.loads would descend into before failing.
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


def _check_id(data: dict[str, Any], final: CheckedURL) -> None:
    # The id must be where we got the document from, after redirects: an id naming
    # another URL or origin is an impersonation attempt (T20, T22, CVE-2024-23832).
    doc_id = data.get("id")
    if not isinstance(doc_id, str):
        raise FetchError(f"document at {final.url} has no string id")
    try:
        same = check_url(doc_id).url == final.url
    except FetchError:
        same = False
    if not same:
        raise FetchError(f"document at {final.url} claims id {doc_id!r}")
