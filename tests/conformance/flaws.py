"""The flaws the test group server can have, each breaking exactly one conformance rule.

`CASES` maps each flaw to the check that must catch it and words its reason must contain.
"""

from __future__ import annotations

from enum import StrEnum


class Flaw(StrEnum):
    # discovery
    WEBFINGER_PLAIN_JSON = "WebFinger answers as application/json"
    WEBFINGER_RAW_ONLY = "WebFinger does not decode a percent-encoded resource"
    TWO_SELF_LINKS = "WebFinger gives two self links"
    NO_CORS = "WebFinger without CORS"
    WEBFINGER_ACCT_ONLY = "WebFinger ignores actor-URL resources"
    WEBFINGER_ANSWERS_ANYONE = "WebFinger answers for accounts that do not exist"
    WEBFINGER_CASE_SENSITIVE = "WebFinger matches names case-sensitively"
    WEBFINGER_NEVER_400 = "WebFinger answers 404 to a malformed request"
    NO_HOST_META = "no host-meta"
    NO_NODEINFO = "no NodeInfo at all"
    NODEINFO_BAD_NAME = "NodeInfo software.name with capitals and spaces"
    NO_NODEINFO_21 = "no NodeInfo 2.1"
    # the actor
    PLAIN_JSON = "serves the actor as application/json"
    ID_NOT_URL = "actor id differs from its URL"
    NO_AS_CONTEXT = "actor @context without ActivityStreams"
    UNDEFINED_TERMS = "extension terms not defined in @context"
    PERSON_TYPE = "the group is a Person"
    NO_OUTBOX = "actor without outbox"
    NO_MODERATORS = "actor without attributedTo (moderators)"
    NO_WEBFINGER_PROPERTY = "actor without the FEP-2c59 webfinger property"
    USERNAME_NOT_HANDLE = "preferredUsername does not webfinger back"
    WRONG_KEY_OWNER = "publicKey.owner is not the actor"
    GARBLED_KEY = "publicKeyPem does not parse"
    # collections
    UNCOUNTED_OUTBOX = "outbox without totalItems"
    FOLLOWERS_COUNT_AS_TEXT = "followers totalItems is a string"
    FEATURED_MISCOUNTED = "featured totalItems disagrees with its items"
    # fetches
    DANGLING_KEY_ID = "publicKey.id points at a URL that answers 404"
    LD_ACCEPT_GETS_HTML = "the ld+json Accept gets HTML"
    NO_VARY = "no Vary: Accept"
    SIGNED_GETS_REFUSED = "signed GETs answered 401"
    SIGNED_COLLECTION_GETS_REFUSED = "signed GETs of collections answered 401"
    NO_HTML = "browsers get JSON"
    # inbox
    VALID_POSTS_REFUSED = "requires a signed content-length nobody signs"
    UNSIGNED_POSTS_ACCEPTED = "accepts unsigned posts"
    FORGED_SIGNATURES_ACCEPTED = "accepts signatures it cannot verify"
    STALE_DATES_ACCEPTED = "accepts any Date"
    DIGEST_IGNORED = "ignores the Digest"
    # the group flow
    FORGETS_ACCEPT = "never sends Accept"
    ACCEPT_BY_ID = "Accept names the Follow by id only"
    FOLLOWERS_UNCOUNTED = "followers totalItems always 0"
    NO_ANNOUNCE = "never announces"
    OUTBOX_OMITS_ANNOUNCES = "Announces missing from the outbox"
    IGNORES_DELETE = "ignores the author's Delete"
    KEEPS_EX_MEMBERS = "ignores Undo Follow"
    KEEPS_DELETED_ACCOUNTS = "ignores account deletions"
    BADLY_SIGNED_DELIVERIES = "signs deliveries with a key it does not publish"
    SIGNER_NOT_WEBFINGERABLE = "the actor signing its fetches cannot be webfingered"


CASES: list[tuple[Flaw, str, str]] = [
    (Flaw.WEBFINGER_PLAIN_JSON, "webfinger.acct", "must be served as application/jrd+json"),
    (Flaw.WEBFINGER_RAW_ONLY, "webfinger.encoded", "expected 200"),
    (Flaw.TWO_SELF_LINKS, "webfinger.self-link", "2 rel=self links"),
    (Flaw.NO_CORS, "webfinger.cors", "Access-Control-Allow-Origin is None"),
    (Flaw.WEBFINGER_ACCT_ONLY, "webfinger.actor-url", "answered 404"),
    (Flaw.WEBFINGER_ANSWERS_ANYONE, "webfinger.unknown", "answered 200"),
    (Flaw.WEBFINGER_CASE_SENSITIVE, "webfinger.case", "SUPPORT@127.0.0.1"),
    (Flaw.WEBFINGER_NEVER_400, "webfinger.malformed", "expected 400"),
    (Flaw.NO_HOST_META, "host-meta", "answered 404"),
    (Flaw.NO_NODEINFO, "nodeinfo.discovery", "answered 404"),
    (Flaw.NODEINFO_BAD_NAME, "nodeinfo.2.0", "does not match ^[a-z0-9-]+$"),
    (Flaw.NO_NODEINFO_21, "nodeinfo.2.1", "does not link a 2.1 document"),
    (Flaw.PLAIN_JSON, "actor.content-type", "(application/json)"),
    (Flaw.ID_NOT_URL, "actor.id", "differs from the URL fetched"),
    (Flaw.NO_AS_CONTEXT, "actor.context", "does not contain https://www.w3.org/ns/activitystreams"),
    (Flaw.UNDEFINED_TERMS, "actor.terms-defined", "are not defined in @context"),
    (Flaw.PERSON_TYPE, "actor.type", "type is 'Person'"),
    (Flaw.NO_OUTBOX, "actor.fields", "outbox None is not a URL"),
    (Flaw.NO_MODERATORS, "actor.group-fields", "attributedTo (the moderators collection)"),
    (Flaw.NO_WEBFINGER_PROPERTY, "actor.webfinger-property", "no FEP-2c59 'webfinger' property"),
    (Flaw.USERNAME_NOT_HANDLE, "actor.webfinger-loopback", "answered 404"),
    (Flaw.WRONG_KEY_OWNER, "actor.key-owner", "is not the actor id"),
    (Flaw.GARBLED_KEY, "actor.key-parses", "cannot load publicKeyPem"),
    (Flaw.UNCOUNTED_OUTBOX, "collections.outbox", "totalItems None"),
    (Flaw.FOLLOWERS_COUNT_AS_TEXT, "collections.followers", "totalItems '0' is not"),
    (Flaw.FEATURED_MISCOUNTED, "collections.featured", "lists 0 items but totalItems is 1"),
    (Flaw.DANGLING_KEY_ID, "fetch.key-unsigned", "answered 404"),
    (Flaw.LD_ACCEPT_GETS_HTML, "fetch.ld-accept", "(text/html"),
    (Flaw.NO_VARY, "fetch.vary-accept", "Vary is None"),
    (Flaw.SIGNED_GETS_REFUSED, "fetch.signed-actor", "answered 401"),
    (Flaw.SIGNED_COLLECTION_GETS_REFUSED, "fetch.signed-outbox", "answered 401"),
    (Flaw.NO_HTML, "fetch.html", "to Accept: text/html"),
    (Flaw.VALID_POSTS_REFUSED, "inbox.valid-signature", "answered 401, expected 2xx"),
    (Flaw.UNSIGNED_POSTS_ACCEPTED, "inbox.unsigned", "no signature answered 202"),
    (Flaw.FORGED_SIGNATURES_ACCEPTED, "inbox.forged-signature", "forged signature answered 202"),
    (Flaw.STALE_DATES_ACCEPTED, "inbox.stale-date", "two hours old answered 202"),
    (Flaw.DIGEST_IGNORED, "inbox.wrong-digest", "Digest of other bytes answered 202"),
    (Flaw.FORGETS_ACCEPT, "flow.follow-accept", "no Accept reached"),
    (Flaw.ACCEPT_BY_ID, "flow.follow-accept", "embed the Follow"),
    (Flaw.FOLLOWERS_UNCOUNTED, "flow.followers-count", "went from 0 to 0 after two Follows"),
    (Flaw.NO_ANNOUNCE, "flow.announce", "no Announce of alice's post"),
    (Flaw.OUTBOX_OMITS_ANNOUNCES, "flow.outbox", "does not list the Announce"),
    (Flaw.IGNORES_DELETE, "flow.delete", "no Undo of the Announce"),
    (Flaw.KEEPS_EX_MEMBERS, "flow.undo-follow", "after alice's Undo"),
    (Flaw.KEEPS_DELETED_ACCOUNTS, "flow.delete-actor", "after bob's account Delete"),
    (Flaw.BADLY_SIGNED_DELIVERIES, "flow.signatures", "not signed by their actor"),
    (Flaw.SIGNER_NOT_WEBFINGERABLE, "flow.fetch-signers", "does not webfinger"),
]
