"""JSON-LD expansion and compaction (pyld) over context documents bundled with the package.

Nothing here touches the network (security-cases T27): pyld's default loader fetches any URL.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any, Final

from pyld import jsonld as _pyld

# The pinned set: context URL -> file in contexts/ (provenance in contexts/SOURCES.md).
CONTEXT_FILES: Final[dict[str, str]] = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "security-data-integrity-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "security-multikey-v1.jsonld",
    "https://purl.archive.org/socialweb/webfinger": "webfinger.jsonld",
    "https://purl.archive.org/miscellany": "miscellany.jsonld",
    # Mastodon preloads the same document under this older URL.
    "https://purl.archive.org/socialweb/miscellany": "miscellany.jsonld",
    "https://join-lemmy.org/context.json": "join-lemmy.jsonld",
}


class JsonLdError(ValueError):
    """A document could not be processed as JSON-LD (pyld's error, without importing pyld)."""


@cache
def _bundled_text(name: str) -> str:
    return (files("fedgroups.activitypub") / "contexts" / name).read_text(encoding="utf-8")


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld document loader serving only the bundled contexts; any other URL is an empty context.

    Empty rather than an error: remote servers name contexts we do not ship (Pleroma's litepub,
    GoToSocial's), and refusing the whole document would refuse them. Their terms simply stay
    undefined, which is how `undefined_terms` reports them. Exact URL match, no redirects.
    """
    name = CONTEXT_FILES.get(url)
    # Parsed afresh on each call so no caller can mutate the pinned copy.
    document = json.loads(_bundled_text(name)) if name else {"@context": {}}
    return {"contextUrl": None, "documentUrl": url, "document": document}


def _options() -> dict[str, Any]:
    return {"documentLoader": document_loader}


def expand(document: dict[str, Any]) -> list[Any]:
    """JSON-LD expansion with the local loader."""
    try:
        result: list[Any] = _pyld.expand(document, _options())
    except _pyld.JsonLdError as error:
        raise JsonLdError(str(error)) from error
    return result


def compact(document: dict[str, Any], context: Any) -> dict[str, Any]:
    """JSON-LD compaction against `context` (URL, list or map) with the local loader."""
    try:
        result: dict[str, Any] = _pyld.compact(document, context, _options())
    except _pyld.JsonLdError as error:
        raise JsonLdError(str(error)) from error
    return result


def _meaning(expanded: Any) -> Any:
    # The AS context maps unknown terms to blank-node properties ("@vocab": "_:"). Those never
    # reach RDF and no consumer matches on them, so they count as dropped.
    if isinstance(expanded, list):
        return [_meaning(item) for item in expanded]
    if isinstance(expanded, dict):
        return {k: _meaning(v) for k, v in expanded.items() if not k.startswith("_:")}
    return expanded


def undefined_terms(document: dict[str, Any]) -> set[str]:
    """Keys of `document`, at any depth, whose content JSON-LD expansion drops.

    A key counts as dropped when deleting it leaves the expansion unchanged; keys starting with
    "@" are skipped, and keys under a dropped key are not reported again. A key whose value is
    null is reported too, since expansion drops it as well. One expansion per key: this is for
    tests and diagnostics, not for documents in flight.
    """
    baseline = _meaning(expand(document))
    found: set[str] = set()

    def visit(node: Any, probe: dict[str, Any], probe_node: Any) -> None:
        # `probe` is a private copy of the document and `probe_node` the twin of `node` in it.
        if isinstance(node, list):
            for item, probe_item in zip(node, probe_node, strict=True):
                visit(item, probe, probe_item)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "@context":
                continue
            if not key.startswith("@"):
                removed = probe_node.pop(key)
                dropped = _meaning(expand(probe)) == baseline
                probe_node[key] = removed
                if dropped:
                    found.add(key)
                    continue
            visit(value, probe, probe_node[key])

    probe = copy.deepcopy(document)
    visit(document, probe, probe)
    return found
