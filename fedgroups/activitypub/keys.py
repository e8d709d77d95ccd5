"""RSA key pairs for local actors, as PEM text (PKCS#8 private, SPKI public, as peers expect)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048


def generate_key_pair() -> tuple[str, str]:
    """Return (private_pem, public_pem). RSA-2048 with e=65537, what Mastodon generates."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("local actor keys are RSA")
    return key
