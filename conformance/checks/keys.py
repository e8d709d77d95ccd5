"""The group's key: owned by the group, published where its id says, loadable by peers."""

from __future__ import annotations

from typing import Any

from bovine.crypto.types import CryptographicIdentifier
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.report import Failed, Skipped
from conformance.runner import Context, checker

check = checker("actor")


def _main_key(document: dict[str, Any]) -> dict[str, Any]:
    key = document.get("publicKey")
    if isinstance(key, list):  # Mastodon 4.7 reads up to 10; older ones only the first
        key = key[0] if key else None
    if not isinstance(key, dict):
        raise Skipped("the actor has no publicKey object")
    return key


@check(
    "actor.key-owner",
    rule=(
        "publicKey.owner == actor id, key id under the actor [M process_account_service.rb] "
        "(interop 2.4)"
    ),
)
async def actor_key_owner(context: Context) -> str:
    document = await context.actor()
    key = _main_key(document)
    if key.get("owner") != document.get("id"):
        raise Failed(
            f"publicKey.owner {key.get('owner')!r} is not the actor id {document.get('id')!r}"
        )
    key_id = key.get("id")
    if not isinstance(key_id, str) or key_id.split("#")[0] != document.get("id"):
        raise Failed(f"publicKey.id {key_id!r} is not a fragment of the actor id")
    return f"key {key_id} owned by the actor"


@check("actor.key-parses", rule="SPKI PEM, RSA >= 2048 bits [MD spec/security.md] (interop 2.4)")
async def actor_key_parses(context: Context) -> str:
    document = await context.actor()
    pem = _main_key(document).get("publicKeyPem")
    if not isinstance(pem, str):
        raise Failed("publicKey has no publicKeyPem")
    try:
        identifier = CryptographicIdentifier.from_pem(pem, str(document.get("id")))
    except Exception as exc:  # bovine raises whatever the key parser raised
        raise Failed(f"bovine cannot load publicKeyPem: {exc}") from exc
    key = identifier.public_key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise Failed(f"RSA key of {key.key_size} bits; peers expect 2048 or more")
        return f"RSA {key.key_size}-bit key loads"
    return f"{type(key).__name__} loads"
