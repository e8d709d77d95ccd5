"""A group's rules and intake: what newcomers are told, and how much of them is reviewed.

The rules are shown on the group's page and sent to members from other servers when they are
accepted; a local member confirms them before their first post. `review_first_posts` holds a
new member's first posts for a moderator (see `screening`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from fedgroups.errors import ValidationError
from fedgroups.groups.joining import parse_questions
from fedgroups.groups.membership import decide_membership
from fedgroups.groups.modlog import ADMIN, Acting, record
from fedgroups.groups.notifications import notify_decision
from fedgroups.models import (
    Actor,
    Group,
    Membership,
    MembershipRole,
    MembershipState,
    ModerationAction,
)

MAX_RULES = 5_000
MAX_REVIEWED_POSTS = 100


async def configure_group(
    group: Group,
    acting: Acting = ADMIN,
    *,
    rules: str | None = None,
    review_first_posts: int | None = None,
    join_questions: list[str] | None = None,
) -> Group:
    """Change a group's rules, join questions and pre-moderation; the log says what changed."""
    changes: list[str] = []
    if join_questions is not None:
        questions = parse_questions("\n".join(join_questions))
        if questions != list(group.join_questions or []):
            group.join_questions = questions
            changes.append("changed the join questions" if questions else "removed the questions")
    reconfirm = False
    if rules is not None:
        cleaned = "\n".join(line.rstrip() for line in rules.strip().splitlines())
        if len(cleaned) > MAX_RULES:
            raise ValidationError(f"keep the rules under {MAX_RULES} characters")
        if cleaned != group.rules:
            group.rules = cleaned
            changes.append("changed the rules" if cleaned else "removed the rules")
            reconfirm = True
    if review_first_posts is not None:
        if not 0 <= review_first_posts <= MAX_REVIEWED_POSTS:
            raise ValidationError(
                f"review between 0 (nobody's posts wait) and {MAX_REVIEWED_POSTS} first posts"
            )
        if review_first_posts != group.review_first_posts:
            group.review_first_posts = review_first_posts
            changes.append(
                f"new members' first {review_first_posts} posts wait for review"
                if review_first_posts
                else "new members' posts no longer wait for review"
            )
    if changes:
        async with in_transaction():
            await group.save(update_fields=["rules", "review_first_posts", "join_questions"])
            if reconfirm:  # new rules are confirmed anew before the next post
                await Membership.filter(group=group).update(rules_accepted_at=None)
            summary = "; ".join(changes)
            reason = f"{summary}: {acting.reason}" if acting.reason else summary
            await record(
                group, ModerationAction.CHANGE_RULES, Acting(acting.moderator, reason=reason)
            )
    return group


async def must_confirm_rules(group: Group, member: Actor) -> bool:
    """True until a local member has confirmed the group's rules (when it has any).

    The group's moderators and owner, who keep the rules, are not asked.
    """
    if not group.rules.strip():
        return False
    membership = await Membership.get_or_none(
        group=group, actor=member, state=MembershipState.APPROVED
    )
    if membership is None or membership.role != MembershipRole.MEMBER:
        return False
    return membership.rules_accepted_at is None


async def confirm_rules(group: Group, member: Actor) -> None:
    """A member says they have read the rules; asked again when the rules change."""
    await Membership.filter(group=group, actor=member, state=MembershipState.APPROVED).update(
        rules_accepted_at=datetime.now(UTC)
    )


async def decide_join_request(
    group: Group, person: Actor, *, approve: bool, acting: Acting = ADMIN
) -> Membership:
    """A moderator answers a request to join: the log keeps it, a local requester is told.

    A rejected applicant is not named in the log: members learn only that someone was turned
    away, not who asked to join their group.
    """
    async with in_transaction():
        membership = await decide_membership(group, person, approve=approve)
        action = ModerationAction.APPROVE_MEMBER if approve else ModerationAction.REJECT_MEMBER
        await record(group, action, acting, subject=person if approve else None)
        await notify_decision(group, person, approved=approve)
    return membership
