"""Content negotiation: ActivityPub JSON for servers, HTML for browsers, at the same URL."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from fedgroups.activitypub.vocabulary import ACTIVITY_JSON, JRD_JSON

_AP_TYPES = ("application/activity+json", "application/ld+json")


def wants_activity_json(request: Request) -> bool:
    """True when the client asked for an ActivityStreams document rather than a page."""
    accept = request.headers.get("accept", "").lower()
    return any(media in accept for media in _AP_TYPES)


# What an answer for one reader depends on: the format asked for, and who signed the request.
VARY_READER = "Accept, Signature"
# Members-only documents are for one reader: no shared cache may keep or serve them (T56).
PRIVATE_CACHE = "private, no-store"


def reader_headers(*, is_private: bool) -> dict[str, str]:
    """Headers of a document whose visibility depends on the reader."""
    headers = {"Vary": VARY_READER}
    if is_private:
        headers["Cache-Control"] = PRIVATE_CACHE
    return headers


class ActivityJSONResponse(Response):
    """An AS2 document, served as `application/activity+json` (what Mastodon asks for)."""

    media_type = ACTIVITY_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class JRDResponse(Response):
    media_type = JRD_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
