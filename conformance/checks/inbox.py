"""Inbox behaviour: requests with a broken signature are refused and change nothing.

Each case is a Follow of the group from its own peer actor, so any effect (an Accept or Reject
sent back) is traced to the request that caused it. The faulty Follows go first, then a valid
one; the valid one's answer shows the instance has processed what it stored, and a grace period
after it gives a wrongly stored Follow the time to show.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from conformance import activities
from conformance.http import Fetched
from conformance.peer import PeerActor
from conformance.report import Failed
from conformance.runner import Context, checker
from conformance.signing import Fault

check = checker("inbox")


@dataclass
class Sent:
    actor: PeerActor
    activity: dict[str, Any]
    response: Fetched | Failed

    @property
    def status(self) -> int | None:
        return self.response.status if isinstance(self.response, Fetched) else None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        if isinstance(self.response, Failed):
            return str(self.response)
        return f"answered {self.response.status}"


async def _round(context: Context) -> dict[Fault, Sent]:
    """Send every case once per run (all checks of this section read the same round)."""
    if "inbox" in context.state:
        return dict(context.state["inbox"])
    inbox = await context.group_inbox()
    group_id = str((await context.actor())["id"])
    peer = context.peer
    sent: dict[Fault, Sent] = {}
    for fault in (Fault.UNSIGNED, Fault.FORGED, Fault.STALE_DATE, Fault.WRONG_DIGEST, Fault.NONE):
        actor = peer.actor("inbox_" + fault.name.lower())
        follow = activities.follow(peer, actor, group_id)
        try:
            response: Fetched | Failed = await peer.post(actor, inbox, follow, fault)
        except Failed as exc:
            response = exc
        sent[fault] = Sent(actor, follow, response)
        if sent[fault].accepted:  # leave the group as found, even after a wrongly accepted one
            context.state.setdefault("cleanup", []).append(_undoer(context, actor, follow, inbox))
    valid = sent[Fault.NONE]
    if valid.accepted and not await context.is_members_only():
        await peer.wait_for(activities.answers_follow(valid.activity), context.options.timeout)
    await asyncio.sleep(context.options.grace)
    context.state["inbox"] = sent
    return sent


def _undoer(context: Context, actor: PeerActor, follow: dict[str, Any], inbox: str) -> Any:
    async def undo() -> None:
        await context.peer.post(actor, inbox, activities.undo(context.peer, actor, follow))

    return undo


@check(
    "inbox.valid-signature",
    rule="a bovine-signed Follow is accepted with 2xx [M inboxes_controller.rb] (interop 8)",
)
async def valid_signature(context: Context) -> str:
    sent = (await _round(context))[Fault.NONE]
    if not sent.accepted:
        raise Failed(
            f"a validly signed Follow {sent.describe()}, expected 2xx{context.unreachable_hint()}"
        )
    answered = [d for d in context.peer.deliveries if activities.answers_follow(sent.activity)(d)]
    note = f", then sent {answered[0].activity.get('type')}" if answered else ""
    return f"a validly signed Follow answered {sent.status}{note}"


def _refusal_check(fault: Fault, check_id: str, rule: str) -> None:
    @check(check_id, rule=rule)
    async def refused(context: Context) -> str:
        sent = (await _round(context))[fault]
        if sent.status is None:
            raise Failed(f"a Follow with {fault.value} could not be sent: {sent.describe()}")
        if not 400 <= sent.status < 500:
            hint = context.unreachable_hint() if sent.status >= 500 else ""
            raise Failed(
                f"a Follow with {fault.value} {sent.describe()}, expected a 4xx refusal{hint}"
            )
        effects = [
            d for d in context.peer.deliveries if activities.answers_follow(sent.activity)(d)
        ]
        if effects:
            kind = effects[0].activity.get("type")
            raise Failed(
                f"a Follow with {fault.value} answered {sent.status} but the group still sent "
                f"{kind}: the refused request had an effect"
            )
        return f"a Follow with {fault.value} answered {sent.status} and had no effect"


_refusal_check(
    Fault.UNSIGNED,
    "inbox.unsigned",
    "unsigned POSTs refused [M app/controllers/concerns/signature_verification.rb] (interop 3.2)",
)
_refusal_check(
    Fault.FORGED,
    "inbox.forged-signature",
    "signed by a key the keyId does not publish: refused "
    "[draft-cavage-12 §2.5; M signed_request.rb]",
)
_refusal_check(
    Fault.STALE_DATE,
    "inbox.stale-date",
    "Date 2 h old refused [M signed_request.rb matches_time_window?; AF; FY sig/http.ts] "
    "(interop 3.3)",
)
_refusal_check(
    Fault.WRONG_DIGEST,
    "inbox.wrong-digest",
    "Digest not matching the body refused [M signed_request.rb verify_body_digest!; AF] "
    "(interop 3.3)",
)
