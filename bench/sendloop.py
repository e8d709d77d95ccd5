"""A load process that POSTs signed deliveries with N in flight, and reports rate and CPU.

`--client fedgroups` goes through the instance's own delivery path (`build_delivery_client`, the
SSRF-guarded transport, `post_signed`, `classify_response`); `--client bare` is the raw limit:
a hand-written draft-cavage signature and a default `httpx.AsyncClient`, nothing else.
Targets: `--ports` spread over many peers (one inbox each), or one port with many inboxes.
Run: python -m bench.sendloop --client bare|fedgroups --ports P1,P2.. --seconds S --inflight N
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import resource
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpx
import orjson
import uvloop
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedgroups.activitypub.keys import generate_key_pair, load_private_key
from fedgroups.federation.delivery import Verdict, classify_response
from fedgroups.federation.http import build_delivery_client
from fedgroups.federation.signatures import SchemePreferences, post_signed
from fedgroups.heap import settle_heap

KEY_ID = "https://bench.invalid/g/circle#main-key"
Send = Callable[[str], Awaitable[bool]]


def _body() -> bytes:
    return orjson.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://bench.invalid/g/circle/activities/1",
            "type": "Announce",
            "actor": "https://bench.invalid/g/circle",
            "object": "https://peer.bench.invalid/users/m/statuses/1" + "0" * 2000,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }
    )


def _bare_headers(url: str, body: bytes, key: RSAPrivateKey) -> dict[str, str]:
    parts = urlsplit(url)
    date = format_datetime(datetime.now(UTC), usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    text = (
        f"(request-target): post {parts.path}\nhost: {parts.netloc}\ndate: {date}\n"
        f"digest: {digest}\ncontent-type: application/activity+json"
    )
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))
    return {
        "Host": parts.netloc,
        "Date": date,
        "Digest": digest,
        "Content-Type": "application/activity+json",
        "Signature": f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest content-type",'
        f'signature="{signature.decode()}"',
    }


def _bare(ca: str | None, body: bytes, key: RSAPrivateKey) -> tuple[Send, httpx.AsyncClient]:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True
    client = httpx.AsyncClient(verify=verify, timeout=10.0)

    async def send(url: str) -> bool:
        response = await client.post(url, content=body, headers=_bare_headers(url, body, key))
        return response.is_success

    return send, client


def _ours(ca: str | None, body: bytes, key: RSAPrivateKey) -> tuple[Send, httpx.AsyncClient]:
    context = ssl.create_default_context(cafile=ca) if ca else None
    client = build_delivery_client(
        allow_private_peers=True, user_agent="bench", ssl_context=context
    )
    prefs = SchemePreferences()

    async def send(url: str) -> bool:
        try:
            response = await post_signed(client, url, body, KEY_ID, key, prefs)
        except httpx.HTTPError as exc:
            return classify_response(None, None, exc).verdict is Verdict.DONE
        return classify_response(response.status_code, response.headers, None).verdict is (
            Verdict.DONE
        )

    return send, client


def _urls(scheme: str, ports: list[int], inboxes_per_port: int) -> itertools.cycle[str]:
    return itertools.cycle(
        [
            f"{scheme}://127.0.0.1:{port}/users/r{number}/inbox"
            for number in range(inboxes_per_port)
            for port in ports
        ]
    )


async def _run(args: argparse.Namespace) -> dict[str, float]:
    key = load_private_key(generate_key_pair()[0])
    body = _body()
    make = _ours if args.client == "fedgroups" else _bare
    send, client = make(args.ca, body, key)
    ports = [int(port) for port in args.ports.split(",")]
    urls = _urls("https" if args.ca else "http", ports, args.inboxes_per_port)
    counts = {"ok": 0, "failed": 0}
    stop_at = 0.0

    async def lane() -> None:
        while time.monotonic() < stop_at:
            try:
                ok = await send(next(urls))
            except httpx.HTTPError:
                ok = False
            counts["ok" if ok else "failed"] += 1

    stop_at = time.monotonic() + args.warmup
    await asyncio.gather(*(lane() for _ in range(args.inflight)))
    counts.update(ok=0, failed=0)
    cpu0 = _cpu()
    start = time.monotonic()
    stop_at = start + args.seconds
    await asyncio.gather(*(lane() for _ in range(args.inflight)))
    elapsed, cpu = time.monotonic() - start, _cpu() - cpu0
    await client.aclose()
    done = counts["ok"]
    return {
        "rate": done / elapsed,
        "ok": done,
        "failed": counts["failed"],
        "cpu_ms": cpu / max(done, 1) * 1e3,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", choices=("bare", "fedgroups"), required=True)
    parser.add_argument("--ports", required=True, help="comma-separated receiver ports")
    parser.add_argument("--inboxes-per-port", type=int, default=1)
    parser.add_argument("--ca", help="CA file: speak TLS and verify against it")
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    settle_heap()  # as the worker
    print(orjson.dumps(uvloop.run(_run(args))).decode(), flush=True)  # as the worker


if __name__ == "__main__":
    main()
