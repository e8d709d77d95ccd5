"""Signed inbox requests made ahead of a run, so the load generator only replays bytes.

Each request carries a distinct Create{Note} signed by one of the senders (draft-cavage, RSA,
the way Mastodon signs), so every request is a new activity that must be verified and stored.
Signing runs in a process pool: RSA signing is the slow part (about 4,000/s per core).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from bench.fixtures import Member, create_note
from fedgroups.activitypub.keys import load_private_key
from fedgroups.federation.signatures import sign_cavage

SEPARATOR = b"\0"


def _raw_request(url: str, headers: dict[str, str], body: bytes) -> bytes:
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _sign_chunk(
    numbers: range, url: str, members: list[Member], group_ap_id: str, private_pem: str
) -> bytes:
    key = load_private_key(private_pem)
    out = []
    for number in numbers:
        member = members[number % len(members)]
        body = orjson.dumps(create_note(member, group_ap_id, number))
        headers = sign_cavage(
            "POST", url, {"Content-Type": "application/activity+json"}, body, member.key_id, key
        )
        out.append(_raw_request(url, headers, body))
    return SEPARATOR.join(out)


def write_requests(
    path: Path,
    *,
    url: str,
    members: list[Member],
    group_ap_id: str,
    private_pem: str,
    count: int,
    first: int = 0,
) -> Path:
    """Write `count` signed POSTs of distinct activities to `path`, separated by NUL bytes."""
    chunk = 500
    ranges = [range(n, min(n + chunk, first + count)) for n in range(first, first + count, chunk)]
    sign = partial(
        _sign_chunk, url=url, members=members, group_ap_id=group_ap_id, private_pem=private_pem
    )
    with ProcessPoolExecutor() as pool:
        blobs = list(pool.map(sign, ranges))
    path.write_bytes(SEPARATOR.join(blobs))
    return path
