"""Local people joining and leaving groups hosted here, answering join questions if asked.

Joining is the same membership a remote Follow makes (`membership.request_membership`):
public groups accept at once, members-only groups wait for a moderator.
"""

from __future__ import annotations

import secrets

from fedgroups.errors import ValidationError
from fedgroups.groups.collections import moderator_ids
from fedgroups.groups.membership import request_membership
from fedgroups.groups.moderators import member_left
from fedgroups.groups.notifications import notify_join_request
from fedgroups.models import Actor, Group, Membership, MembershipState

MAX_QUESTIONS = 5
MAX_QUESTION = 300
MAX_ANSWER = 1_000


def parse_questions(text: str) -> list[str]:
    """Join questions as a moderator types them: one per line."""
    questions = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(f"Ask at most {MAX_QUESTIONS} questions.", field="questions")
    if any(len(question) > MAX_QUESTION for question in questions):
        raise ValidationError(
            f"Keep each question under {MAX_QUESTION} characters.", field="questions"
        )
    return questions


async def join_group(group: Group, actor: Actor, answers: list[str]) -> Membership:
    """`actor` (local) joins `group`, or asks to when it is members-only."""
    existing = await Membership.get_or_none(group=group, actor=actor)
    if existing is not None and existing.state == MembershipState.BANNED:
        raise ValidationError("You cannot join this group.", field="form")
    questions = list(group.join_questions or []) if group.is_private else []
    cleaned = [answer.strip()[:MAX_ANSWER] for answer in answers[: len(questions)]]
    cleaned += [""] * (len(questions) - len(cleaned))
    for index, answer in enumerate(cleaned):
        if not answer:
            raise ValidationError("Please answer this question.", field=f"answer{index}")
    follow_id = f"{actor.ap_id}/follows/{secrets.token_urlsafe(12)}"
    membership = await request_membership(group, actor, follow_id)
    membership.join_answers = [list(pair) for pair in zip(questions, cleaned, strict=True)]
    await membership.save(update_fields=["join_answers"])
    if membership.state == MembershipState.PENDING:
        await _tell_moderators(group, actor)
    return membership


async def receive_join_request(group: Group, actor: Actor, follow_ap_id: str) -> Membership:
    """A Follow from another server: as `request_membership`, and when the request waits,
    the group's local moderators are told once (not again for a re-sent Follow)."""
    before = await Membership.get_or_none(group=group, actor=actor)
    membership = await request_membership(group, actor, follow_ap_id)
    was_waiting = before is not None and before.state == MembershipState.PENDING
    if membership.state == MembershipState.PENDING and not was_waiting:
        await _tell_moderators(group, actor)
    return membership


async def _tell_moderators(group: Group, requester: Actor) -> None:
    moderators = await Actor.filter(ap_id__in=await moderator_ids(group), is_local=True)
    await notify_join_request(group, requester, list(moderators))


async def leave(group: Group, actor: Actor) -> bool:
    """A local member leaves; if they moderated, the moderators collection loses them too."""
    return await member_left(group, actor)


async def membership_of(group: Group, actor: Actor | None) -> Membership | None:
    if actor is None:
        return None
    return await Membership.get_or_none(group=group, actor=actor)
