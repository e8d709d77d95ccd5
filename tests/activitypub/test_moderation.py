"""Reading reports and moderators' activities as Mastodon and Lemmy send them; building ours."""

from __future__ import annotations

import pytest

from fedgroups.activitypub.moderation import (
    MAX_REPORT_COMMENT,
    parse_flag,
    parse_moderation,
    render_flag,
    render_moderators_change,
)
from fedgroups.errors import MalformedActivity
from tests.factories import captured


def test_mastodons_flag_names_the_account_then_its_posts() -> None:
    flag = parse_flag(captured("mastodon", "flag.json", {}))
    assert flag.actor == "https://example.com/actor"
    assert flag.objects == (
        "https://example.com/users/flagged",
        "https://example.com/users/flagged/statuses/1",
    )
    assert flag.comment == "Boo!!"


def test_lemmys_flag_gives_its_reason_in_summary_and_one_object() -> None:
    flag = parse_flag(captured("lemmy", "report_page.json", {}))
    assert flag.objects == ("http://enterprise.lemmy.ml/post/7",)
    assert flag.comment == "report this post"
    assert "http://enterprise.lemmy.ml/c/main" in flag.recipients


@pytest.mark.parametrize("objects", [[], None, [{"x": 1}, "ftp://a/b", 7]])
def test_a_flag_naming_nothing_usable_is_refused(objects: object) -> None:
    with pytest.raises(MalformedActivity):
        parse_flag({"type": "Flag", "object": objects})


def test_long_comments_and_object_lists_are_cut() -> None:
    many = [f"https://p.test/{n}" for n in range(100)]
    flag = parse_flag({"type": "Flag", "object": many, "content": "x" * 9000})
    assert len(flag.objects) == 20
    assert len(flag.comment) == MAX_REPORT_COMMENT


def test_lemmys_ban_carries_its_group_reason_and_removal() -> None:
    ban = parse_moderation(captured("lemmy", "block_user.json", {}))
    assert ban.object_id == "http://ds9.lemmy.ml/u/lemmy_alpha"
    assert ban.target == "http://enterprise.lemmy.ml/c/main"
    assert (ban.reason, ban.remove_data) == ("spam post", True)
    removal = parse_moderation(captured("lemmy", "remove_note.json", {}))
    assert (removal.object_id, removal.target, removal.reason) == (
        "http://ds9.lemmy.ml/comment/1",
        "",
        "bad comment",
    )


def test_our_flag_and_moderator_changes_have_the_shapes_peers_read() -> None:
    flag = render_flag(
        "https://g.test/actor/activities/1", "https://g.test/actor", ["a", "b"], "y" * 6000
    )
    assert (flag["type"], flag["actor"], flag["object"]) == (
        "Flag",
        "https://g.test/actor",
        ["a", "b"],
    )
    assert len(flag["content"]) == MAX_REPORT_COMMENT
    add = render_moderators_change(
        "Add", "https://g.test/u/omar", "https://g.test/u/omar/activities/1", "https://p.test/u/lee",
        group_id="https://g.test/g/x", followers="https://g.test/g/x/followers", is_public=False,
    )  # fmt: skip
    assert add["target"] == "https://g.test/g/x/moderators"
    assert add["to"] == ["https://g.test/g/x/followers"]
    assert "https://www.w3.org/ns/activitystreams#Public" not in add["cc"]
