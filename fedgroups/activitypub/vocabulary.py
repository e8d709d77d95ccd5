"""ActivityStreams constants: media types, contexts and the extension terms we emit.

Every extension term we put in a document is defined here, because Fedify-based servers run
real JSON-LD expansion and silently drop undefined terms (federation-interop.md 2.1).
"""

from __future__ import annotations

from typing import Any, Final

AS_NS: Final = "https://www.w3.org/ns/activitystreams"
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
SECURITY_V1: Final = "https://w3id.org/security/v1"
WEBFINGER_CONTEXT: Final = "https://purl.archive.org/socialweb/webfinger"

ACTIVITY_JSON: Final = "application/activity+json"
JRD_JSON: Final = "application/jrd+json"
XRD_XML: Final = "application/xrd+xml"

# Extension terms, mapped as Mastodon and Lemmy define them. `schema` must be
# "http://schema.org#" (Mastodon's historical spelling) for PropertyValue to compact right.
EXTENSION_TERMS: Final[dict[str, Any]] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "memorial": "toot:memorial",
    "suspended": "toot:suspended",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "lemmy": "https://join-lemmy.org/ns#",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
}

ACTOR_CONTEXT: Final[list[Any]] = [AS_NS, SECURITY_V1, WEBFINGER_CONTEXT, EXTENSION_TERMS]
APPLICATION_CONTEXT: Final[list[Any]] = [
    AS_NS,
    SECURITY_V1,
    {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers"},
]
ACTIVITY_CONTEXT: Final = AS_NS

ACTOR_TYPES: Final = frozenset({"Application", "Group", "Organization", "Person", "Service"})
COLLECTION_PAGE_SIZE: Final = 20

# Objects we author: `sensitive` marks a content warning (summary), as Mastodon reads it.
NOTE_CONTEXT: Final[list[Any]] = [AS_NS, {"sensitive": "as:sensitive", "Hashtag": "as:Hashtag"}]
