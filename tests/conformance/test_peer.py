"""The suite's peer as a public instance reaches it: the URL it announces, and https."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.cli import PeerSettings
from conformance.http import Http
from conformance.peer import Peer, listen

pytestmark = pytest.mark.interop


def test_the_peer_announces_the_address_the_instance_reaches() -> None:
    assert PeerSettings().public_url(4100) == "http://127.0.0.1:4100"
    assert PeerSettings().bind_address() == "127.0.0.1"
    public = PeerSettings(host="checker.example.org", port=8443)
    assert public.public_url(8443) == "http://checker.example.org:8443"
    assert public.bind_address() == "0.0.0.0"
    proxied = PeerSettings(host="checker.example.org", url="https://checker.example.org")
    assert proxied.public_url(8443) == "https://checker.example.org"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "peer.pem", directory / "peer.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    return cert_path, key_path


async def test_the_peer_serves_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = PeerSettings(cert=cert, key=key)
    listener = listen(settings.bind_address(), 0)
    base_url = settings.public_url(listener.getsockname()[1])
    assert base_url.startswith("https://127.0.0.1:")
    trust = ssl.create_default_context(cafile=str(cert))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust)) as session:
        peer = Peer(Http(session), base_url, "https://groups.example")
        await peer.start(listener, settings.tls())
        try:
            actor = peer.actor("alice")
            async with session.get(actor.id) as response:
                assert response.status == 200
                assert response.content_type == "application/activity+json"
                document = await response.json(content_type=None)
        finally:
            await peer.stop()
    assert document["id"] == f"{base_url}/users/{actor.name}"
    assert document["publicKey"]["owner"] == document["id"]
