"""Defederation is never silent: local people cut off by a block, the allowlist or an unblock
are told which server and why, and a group knows which of its members' servers it lost."""

from __future__ import annotations

from fedgroups.groups.domains import block_domain, unblock_domain
from fedgroups.groups.federation_mode import set_federation_mode
from fedgroups.groups.joining import join_group
from fedgroups.groups.membership import request_membership
from fedgroups.groups.severance import NOT_LISTED, Refusal, refusal_of, severed_servers
from fedgroups.models import (
    Account,
    ActorKind,
    BlockSeverity,
    FederationMode,
    Group,
    Notification,
    NotificationKind,
)
from fedgroups.settings import Settings
from tests.factories import (
    make_account,
    make_group,
    make_membership_elsewhere,
    make_remote_actor,
)


async def _notices(kind: NotificationKind) -> set[tuple[str, str, str, str]]:
    """(who, about what, domain, reason) for each notice of `kind`."""
    rows = await Notification.filter(kind=kind).select_related("account__actor", "group", "actor")
    return {
        (
            row.account.actor.username,
            row.group.slug if row.group else row.actor.username if row.actor else "",
            row.domain,
            row.detail,
        )
        for row in rows
    }


async def _scene(settings: Settings) -> tuple[Account, Account, Account]:
    """omar owns `recovery`, lena is a member, mal of evil.test too; nina follows a group on
    evil.test and sam one on good.test; ben is in a group with no one from evil.test."""
    omar, lena, nina = [await make_account(settings, name) for name in ("omar", "lena", "nina")]
    sam = await make_account(settings, "sam")
    await make_account(settings, "ben")
    group = await make_group(settings, "recovery", owner="omar")
    await join_group(group, lena.actor, [])
    mal = await make_remote_actor("https://evil.test", "mal")
    await request_membership(group, mal, "https://evil.test/follows/1")
    quiet = await make_group(settings, "quiet", owner="ben")
    await request_membership(
        quiet, await make_remote_actor("https://good.test", "gil"), "https://good.test/f/1"
    )
    elsewhere = await make_remote_actor("https://evil.test", "circle", kind=ActorKind.GROUP)
    await make_membership_elsewhere(nina.actor, elsewhere)
    fine = await make_remote_actor("https://good.test", "garden", kind=ActorKind.GROUP)
    await make_membership_elsewhere(sam.actor, fine)
    return omar, lena, nina


async def test_a_block_tells_every_local_person_it_cuts_off_and_unblocking_too(
    db: None, settings: Settings
) -> None:
    await _scene(settings)
    await block_domain("evil.test", reason="harassment", severity=BlockSeverity.LIMIT)
    assert await Notification.filter(kind=NotificationKind.DEFEDERATED).count() == 0  # limited
    await block_domain("evil.test", reason="harassment")
    assert await _notices(NotificationKind.DEFEDERATED) == {
        ("omar", "recovery", "evil.test", "harassment"),
        ("lena", "recovery", "evil.test", "harassment"),
        ("nina", "circle", "evil.test", "harassment"),
    }
    await block_domain("evil.test", reason="harassment, still")  # nothing new is cut
    assert await Notification.filter(kind=NotificationKind.DEFEDERATED).count() == 3
    await unblock_domain("evil.test")
    assert await _notices(NotificationKind.REFEDERATED) == {
        ("omar", "recovery", "evil.test", ""),
        ("lena", "recovery", "evil.test", ""),
        ("nina", "circle", "evil.test", ""),
    }


async def test_the_allowlist_says_why_and_a_group_knows_the_servers_it_lost(
    db: None, settings: Settings
) -> None:
    await _scene(settings)
    await set_federation_mode(FederationMode.ALLOWLIST)
    notices = await _notices(NotificationKind.DEFEDERATED)
    assert ("lena", "recovery", "evil.test", NOT_LISTED) in notices
    assert ("ben", "quiet", "good.test", NOT_LISTED) in notices
    assert ("sam", "garden", "good.test", NOT_LISTED) in notices
    await set_federation_mode(FederationMode.OPEN)
    assert ("sam", "garden", "good.test", "") in await _notices(NotificationKind.REFEDERATED)
    await block_domain("evil.test", reason="harassment")
    recovery = await Group.get(slug="recovery")
    assert await severed_servers(recovery) == [Refusal("evil.test", "harassment")]
    assert await severed_servers(await Group.get(slug="quiet")) == []  # good.test is back
    assert await refusal_of("sub.evil.test") == Refusal("sub.evil.test", "harassment")
    assert await refusal_of("good.test") is None
    await unblock_domain("evil.test")
    assert await severed_servers(await Group.get(slug="recovery")) == []
