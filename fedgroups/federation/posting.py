"""What a signed POST hands back, and the direct path a delivery client offers for sending one.

A delivery needs three things from a peer's reply: its status, its headers (Retry-After) and
at most a few KiB of its body as sent. `CappedPoster` is a client that can send a POST and
return exactly that without building a general-purpose request and response per delivery
(`fedgroups.federation.transport`); `signatures.post_signed` uses it when the client is one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

# Describe the body as it came off the wire; the capped copy a reply holds is neither.
BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class CappedReply:
    """A peer's answer: status, headers (case-insensitive, framing left out) and the first
    bytes of its body exactly as sent (never decompressed, cut at the caller's cap)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class CappedPoster(ABC):
    """A client that POSTs through its own guarded path and reads at most `cap` reply bytes.

    Errors are the same httpx exceptions (and UnsafeAddress/FetchError) its ordinary
    `post` raises, so a delivery is classified the same way whichever path sent it.
    """

    @abstractmethod
    async def post_capped(
        self, url: str, content: bytes, headers: Mapping[str, str], cap: int
    ) -> CappedReply:
        """POST `content` to `url` with `headers` (the client adds its own defaults)."""
