"""Deciding whether a member's post goes out, waits for a moderator, or is refused.

Four rules, in order: keyword rules that reject (the group's and the instance's), keyword
rules that hold, posts from servers the admins limited (they wait), and pre-moderation of new
members (a group's first N posts by someone wait). Moderators' own posts skip pre-moderation,
never the other rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from fedgroups.errors import NotFound, ValidationError
from fedgroups.federation.memo import remember, remembered
from fedgroups.groups.content import words_of
from fedgroups.groups.moderators import moderates
from fedgroups.groups.modlog import ADMIN, Acting, record
from fedgroups.models import (
    Actor,
    Group,
    KeywordAction,
    KeywordRule,
    ModerationAction,
    Post,
)
from fedgroups.models.domain import Policy, policy_for

MAX_PHRASE = 100
MAX_RULES = 500  # per group, and for the instance


class Outcome(StrEnum):
    PUBLISH = "publish"
    HOLD = "hold"
    REJECT = "reject"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""  # for moderators: which rule, which phrase
    log_reason: str = ""  # for the members' log: which kind of rule, never the phrase


PUBLISH = Verdict(Outcome.PUBLISH)


def normalise_phrase(phrase: str) -> str:
    """How a phrase is stored and compared: NFKC, case-folded, spaces collapsed."""
    cleaned = " ".join(unicodedata.normalize("NFKC", phrase).casefold().split())
    if not cleaned:
        raise ValidationError("a keyword rule needs a word or phrase")
    if len(cleaned) > MAX_PHRASE:
        raise ValidationError(f"keep a keyword rule under {MAX_PHRASE} characters")
    return cleaned


def _matches(phrase: str, words: str) -> bool:
    # Whole words only: a rule for "ass" must not hold a post about "class".
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", words) is not None


def _scope(group: Group | None) -> QuerySet[KeywordRule]:
    """One group's rules, or the instance's (those with no group)."""
    if group is None:
        return KeywordRule.filter(group_id__isnull=True)
    return KeywordRule.filter(group_id=group.pk)


async def _rules_for(group: Group) -> list[KeywordRule]:
    return await remembered(
        ("keyword rules", group.pk),
        lambda: KeywordRule.filter(Q(group_id=group.pk) | Q(group_id__isnull=True)).order_by("id"),
    )


async def screen_words(group: Group, *texts: str) -> Verdict:
    """The keyword rules alone (the group's and the instance's): refusing wins over holding."""
    words = " ".join(words_of(text) for text in texts)
    matched = [rule for rule in await _rules_for(group) if _matches(rule.phrase, words)]
    for action in (KeywordAction.REJECT, KeywordAction.HOLD):
        for rule in matched:
            if rule.action == action:
                return _keyword_verdict(rule)
    return PUBLISH


async def _policy_of(domain: str) -> Policy:
    return await remembered(("policy of", domain), lambda: policy_for([domain]))


async def recall_policies(domains: set[str]) -> None:
    """Read ahead, for a batch, what the domain policy says of its authors' servers: one
    read for them all instead of one per server."""
    if domains:
        policy = await policy_for(sorted(domains))
        for domain in domains:
            remember(("policy of", domain), policy)


async def screen_post(group: Group, author: Actor, *texts: str) -> Verdict:
    """What happens to a post by `author` in `group` saying `texts` (HTML or plain text)."""
    verdict = await screen_words(group, *texts)
    if verdict.outcome != Outcome.PUBLISH:
        return verdict
    if not author.is_local and (await _policy_of(author.domain)).is_limited(author.domain):
        reason = f"a post from {author.domain}, a server the admins limited"
        return Verdict(Outcome.HOLD, reason=reason, log_reason="post from a limited server")
    if group.review_first_posts > 0 and not await moderates(group, author):
        published = await Post.filter(group=group, author=author).count()
        if published < group.review_first_posts:
            reason = f"a new member's post ({published + 1} of {group.review_first_posts})"
            return Verdict(Outcome.HOLD, reason=reason, log_reason="new member's post")
    return PUBLISH


def _keyword_verdict(rule: KeywordRule) -> Verdict:
    scope = "instance" if rule.group_id is None else "group"  # type: ignore[attr-defined]
    outcome = Outcome.REJECT if rule.action == KeywordAction.REJECT else Outcome.HOLD
    return Verdict(
        outcome,
        reason=f'{scope} keyword rule "{rule.phrase}"',
        log_reason=f"{scope} keyword rule",
    )


async def add_keyword(
    group: Group | None, phrase: str, action: KeywordAction, acting: Acting = ADMIN
) -> KeywordRule:
    """A rule for one group, or for every group here when `group` is None (admins only)."""
    cleaned = normalise_phrase(phrase)
    rules = _scope(group)
    existing = await rules.filter(phrase=cleaned).first()
    if existing is None and await rules.count() >= MAX_RULES:
        raise ValidationError(f"at most {MAX_RULES} keyword rules")
    async with in_transaction():
        if existing is not None:
            existing.action = action
            await existing.save(update_fields=["action"])
            rule = existing
        else:
            rule = await KeywordRule.create(group=group, phrase=cleaned, action=action)
        # The log never shows the phrase: members would learn what to misspell.
        await record(group, ModerationAction.CHANGE_RULES, _as_rule_change(acting, "added"))
    return rule


async def remove_keyword(group: Group | None, phrase: str, acting: Acting = ADMIN) -> None:
    cleaned = normalise_phrase(phrase)
    rules = _scope(group)
    async with in_transaction():
        if not await rules.filter(phrase=cleaned).delete():
            raise NotFound(f'no keyword rule "{cleaned}"')
        await record(group, ModerationAction.CHANGE_RULES, _as_rule_change(acting, "removed"))


def _as_rule_change(acting: Acting, verb: str) -> Acting:
    return Acting(moderator=acting.moderator, reason=f"{verb} a keyword rule")


async def keyword_rules(group: Group | None) -> list[KeywordRule]:
    """The rules of one group, or the instance's own (`group` None), oldest first."""
    return await _scope(group).order_by("id")
