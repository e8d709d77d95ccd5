"""The exception tree every layer raises, so web and worker code can map failures in one place.

FedgroupsError
├── ConfigError            bad settings; start-up stops with a one-line message
├── ValidationError        bad input from a person or the CLI (names, forms)
├── NotFound               the thing does not exist, or the asker may not know it does
├── Conflict               the thing already exists
├── StoreUnavailable       the database could not commit an accepted activity (503, retry)
└── FederationError        something another server sent or did
    ├── MalformedActivity  the wire document is not usable (400)
    ├── SignatureError     missing, malformed or wrong HTTP signature (401)
    ├── KeyUnavailable     the signer's key host could not be reached (503, retry later)
    ├── OriginMismatch     an id claimed by another origin than the one that spoke (401)
    ├── BlockedDomain      the peer's domain is blocked by this instance
    └── FetchError         a remote document could not be fetched safely
        └── UnsafeAddress  the URL leads to a loopback/private/reserved address or bad scheme
"""


class FedgroupsError(Exception):
    """Base of every error fedgroups raises on purpose."""


class ConfigError(FedgroupsError):
    """A setting is missing or malformed."""


class ValidationError(FedgroupsError):
    """Input from a person or the command line breaks a rule; `field` names the form field."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class NotFound(FedgroupsError):
    """Unknown, or hidden from the asker: both look the same from outside."""


class Conflict(FedgroupsError):
    """The thing to create already exists."""


class StoreUnavailable(FedgroupsError):
    """The database could not commit what a request handed over; the sender should retry."""


class FederationError(FedgroupsError):
    """Another server sent something unusable or misbehaved."""


class MalformedActivity(FederationError):
    """The JSON is not a usable ActivityStreams document."""


class SignatureError(FederationError):
    """The HTTP signature is missing, malformed, stale or does not verify."""


class KeyUnavailable(FederationError):
    """The signer's key could not be fetched right now; the sender should retry."""


class OriginMismatch(FederationError):
    """An id or key belongs to another origin than the one that claims it."""


class BlockedDomain(FederationError):
    """The remote domain is blocked by this instance."""


class FetchError(FederationError):
    """A remote document could not be fetched or failed the safety checks."""


class UnsafeAddress(FetchError):
    """The URL's scheme or resolved address is not allowed (SSRF guard)."""
