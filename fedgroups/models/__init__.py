"""Tortoise models and small lookups: the persistence layer, importing nothing above it."""

from fedgroups.models.account import Account, AccountState
from fedgroups.models.actor import Actor, ActorKind
from fedgroups.models.delivery import Delivery
from fedgroups.models.domain import BlockSeverity, DomainAllow, DomainBlock, PeerDomain, Standing
from fedgroups.models.group import Group
from fedgroups.models.inbox_item import InboxItem
from fedgroups.models.instance import InstanceProfile
from fedgroups.models.membership import Membership, MembershipRole, MembershipState
from fedgroups.models.moderation import (
    HeldPost,
    KeywordAction,
    KeywordRule,
    ModerationAction,
    ModerationEntry,
)
from fedgroups.models.notification import Notification, NotificationKind
from fedgroups.models.outbox_activity import OutboxActivity
from fedgroups.models.page_stamp import PageStamp
from fedgroups.models.policy import FederationMode, InstancePolicy, RegistrationMode
from fedgroups.models.post import Post
from fedgroups.models.queue import JobState
from fedgroups.models.remote_post import RemoteGroupPost
from fedgroups.models.report import Report, ReportState
from fedgroups.models.session import Session
from fedgroups.models.subscription import GroupSubscription, GroupSubscriptionState
from fedgroups.models.throttle import ThrottleHit

__all__ = [
    "Account",
    "AccountState",
    "Actor",
    "ActorKind",
    "BlockSeverity",
    "Delivery",
    "DomainAllow",
    "DomainBlock",
    "FederationMode",
    "Group",
    "GroupSubscription",
    "GroupSubscriptionState",
    "HeldPost",
    "InboxItem",
    "InstancePolicy",
    "InstanceProfile",
    "JobState",
    "KeywordAction",
    "KeywordRule",
    "Membership",
    "MembershipRole",
    "MembershipState",
    "ModerationAction",
    "ModerationEntry",
    "Notification",
    "NotificationKind",
    "OutboxActivity",
    "PageStamp",
    "PeerDomain",
    "Post",
    "RegistrationMode",
    "RemoteGroupPost",
    "Report",
    "ReportState",
    "Session",
    "Standing",
    "ThrottleHit",
]
