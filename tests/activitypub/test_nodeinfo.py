"""Reading peers' NodeInfo, and the boost form each kind of software gets."""

from __future__ import annotations

from fedgroups.activitypub.nodeinfo import (
    AnnounceStyle,
    announce_style,
    parse_nodeinfo_href,
    parse_software_name,
)

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"


def test_the_newest_2x_document_is_chosen() -> None:
    discovery = {
        "links": [
            {"rel": SCHEMA + "2.0", "href": "https://p.test/nodeinfo/2.0"},
            {"rel": SCHEMA + "2.1#", "href": "https://p.test/nodeinfo/2.1"},
            {"rel": SCHEMA + "1.0", "href": "https://p.test/nodeinfo/1.0"},
            {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": "x"},
        ]
    }
    assert parse_nodeinfo_href(discovery) == "https://p.test/nodeinfo/2.1"
    assert parse_nodeinfo_href({"links": [{"rel": SCHEMA + "1.0", "href": "h"}]}) is None
    assert parse_nodeinfo_href(["not", "a", "document"]) is None


def test_software_names_are_read_defensively() -> None:
    assert parse_software_name({"software": {"name": " Mastodon "}}) == "mastodon"
    assert parse_software_name({"software": {"name": 7}}) == ""
    assert parse_software_name({"software": {"name": "x" * 65}}) == ""
    assert parse_software_name({}) == ""


def test_each_kind_of_software_gets_the_boost_it_reads() -> None:
    assert announce_style("mastodon") == AnnounceStyle.OBJECT
    assert announce_style("akkoma") == AnnounceStyle.OBJECT
    assert announce_style("lemmy") == AnnounceStyle.ACTIVITY
    assert announce_style("fedgroups") == AnnounceStyle.ACTIVITY
    assert announce_style("") == AnnounceStyle.BOTH
    assert announce_style("somethingnew") == AnnounceStyle.BOTH
