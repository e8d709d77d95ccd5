"""Looking after a group hosted here: creating it from the web, its rules and join questions,
and moderators deciding who joins."""

from __future__ import annotations

from dataclasses import dataclass

from fedgroups.errors import NotFound, ValidationError
from fedgroups.groups.directory import create_group
from fedgroups.groups.intake import decide_join_request
from fedgroups.groups.joining import parse_questions
from fedgroups.groups.modlog import ADMIN, Acting
from fedgroups.models import Account, Actor, Group, Membership, MembershipRole, MembershipState
from fedgroups.settings import Settings

MAX_SUMMARY = 2_000
MAX_RULES = 5_000


@dataclass(frozen=True)
class GroupForm:
    slug: str
    name: str
    summary: str
    rules: str
    questions: str
    is_private: bool


def _check(form: GroupForm) -> list[str]:
    if len(form.summary) > MAX_SUMMARY:
        raise ValidationError(f"Use at most {MAX_SUMMARY} characters.", field="summary")
    if len(form.rules) > MAX_RULES:
        raise ValidationError(f"Use at most {MAX_RULES} characters.", field="rules")
    return parse_questions(form.questions)


async def start_group(settings: Settings, owner: Account, form: GroupForm) -> Group:
    """A member starts a group; they own and moderate it."""
    questions = _check(form)
    try:
        group = await create_group(
            settings, form.slug, form.name, is_private=form.is_private,
            owner_username=owner.actor.username, summary=form.summary.strip(),
        )  # fmt: skip
    except ValidationError as exc:
        field = "name" if str(exc).startswith("display name") else "slug"
        raise ValidationError(str(exc), field=exc.field or field) from None
    group.rules = form.rules.strip()
    group.join_questions = questions
    await group.save(update_fields=["rules", "join_questions"])
    return group


async def is_moderator(group: Group, account: Account | None) -> bool:
    if account is None:
        return False
    if account.is_admin:
        return True
    return await Membership.exists(
        group=group,
        actor_id=account.actor_id,  # type: ignore[attr-defined]
        state=MembershipState.APPROVED,
        role__in=[MembershipRole.MODERATOR, MembershipRole.OWNER],
    )


async def pending_requests(group: Group) -> list[Membership]:
    return (
        await Membership.filter(group=group, state=MembershipState.PENDING)
        .order_by("created_at")
        .select_related("actor")
    )


async def decide_request(
    group: Group, membership_id: int, *, approve: bool, acting: Acting = ADMIN
) -> Membership:
    """A moderator approves or rejects a pending request; a local requester is told."""
    membership = await Membership.get_or_none(
        id=membership_id, group=group, state=MembershipState.PENDING
    ).select_related("actor")
    if membership is None:
        raise NotFound("no such request")
    actor: Actor = membership.actor
    return await decide_join_request(group, actor, approve=approve, acting=acting)
