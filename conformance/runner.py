"""The check registry, the shared context checks read from, and the loop that runs them.

A check is an async function of the context returning the reason it passed; it raises
`Failed` or `Skipped` otherwise. Checks run in registration order, section by section, and
later checks reuse what earlier ones fetched (the context caches every document).
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from conformance.http import Fetched, Http
from conformance.peer import Peer, origin
from conformance.report import Failed, Report, Result, Skipped, Status

SECTIONS = ("discovery", "actor", "collections", "fetch", "inbox", "flow")


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    rule: str
    run: Callable[[Context], Awaitable[str]]


CHECKS: list[Check] = []


def checker(section: str) -> Callable[[str, str], Callable[[Callable[..., Any]], Any]]:
    """`check = checker("discovery")`, then `@check("webfinger.acct", rule="...")` on each."""

    def check(check_id: str, rule: str) -> Callable[[Callable[..., Any]], Any]:
        def register(run: Callable[[Context], Awaitable[str]]) -> Callable[..., Any]:
            CHECKS.append(Check(check_id, section, rule, run))
            return run

        return register

    return check


@dataclass
class Options:
    base_url: str
    group: str
    timeout: float = 30.0  # how long to wait for something the instance must send
    grace: float = 3.0  # how long to watch for something the instance must NOT send
    only: tuple[str, ...] = ()  # sections or check ids (prefixes) to run; empty = all

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def handle(self) -> str:
        name = self.group.removeprefix("@")
        return name if "@" in name else f"{name}@{self.domain}"

    def selects(self, check: Check) -> bool:
        return not self.only or any(
            check.section == item or check.id.startswith(item) for item in self.only
        )


@dataclass
class Context:
    """What checks share: the options, the HTTP client, the peer, and fetched documents."""

    options: Options
    http: Http
    peer: Peer
    fetched: dict[tuple[str, str], Fetched] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.options.base_url}{path}"

    async def get(self, url: str, **headers: str) -> Fetched:
        """An unsigned GET (AP Accept unless told), fetched once per run for the same headers."""
        key = (url, repr(sorted(headers.items())))
        if key not in self.fetched:
            self.fetched[key] = await self.http.get(url, **headers)
        return self.fetched[key]

    async def webfinger(self) -> Fetched:
        resource = f"acct:{self.options.handle}"
        url = self.url(f"/.well-known/webfinger?resource={quote(resource, safe=':@')}")
        return await self.get(url, accept="application/jrd+json, application/json")

    async def actor_url(self) -> str:
        """The group's actor id, as its WebFinger self link gives it."""
        if "actor_url" not in self.state:
            try:
                fetched = await self.webfinger()
                fetched.expect_status(200)
                links = fetched.json_object().get("links") or []
            except Failed as exc:
                raise Skipped(f"the group could not be discovered: {exc}") from exc
            hrefs = [link.get("href") for link in links
                     if isinstance(link, dict) and link.get("rel") == "self"]  # fmt: skip
            if not hrefs or not isinstance(hrefs[0], str):
                raise Skipped("WebFinger gave no self link to the group's actor")
            self.state["actor_url"] = hrefs[0]
        return str(self.state["actor_url"])

    async def actor(self) -> dict[str, Any]:
        """The group's actor document; Skipped when it cannot be had at all."""
        url = await self.actor_url()
        try:
            fetched = await self.get(url)
            fetched.expect_status(200)
            document = fetched.json_object()
        except Failed as exc:
            raise Skipped(f"the group's actor document is unavailable: {exc}") from exc
        self.peer.instance_origins.add(origin(url))
        return document

    async def actor_field(self, name: str) -> str:
        value = (await self.actor()).get(name)
        if not isinstance(value, str):
            raise Skipped(f"the actor has no {name!r} URL")
        return value

    async def group_inbox(self) -> str:
        return await self.actor_field("inbox")

    async def shared_inbox(self) -> str:
        endpoints = (await self.actor()).get("endpoints")
        shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
        return shared if isinstance(shared, str) else await self.group_inbox()

    def unreachable_hint(self) -> str:
        """Why a signed request may have failed: the instance could not fetch the peer's key."""
        if self.peer.requests_seen:
            return ""
        return (
            f" (the instance never contacted the suite's peer at {self.peer.base_url}: it must "
            "reach it to fetch keys, see --peer-host; fedgroups talks to loopback peers only "
            "with FEDGROUPS_ALLOW_PRIVATE_PEERS=1)"
        )

    async def is_members_only(self) -> bool:
        return (await self.actor()).get("manuallyApprovesFollowers") is True


async def run_check(check: Check, context: Context) -> Result:
    started = time.monotonic()
    try:
        status, reason = Status.PASS, await check.run(context)
    except Failed as exc:
        status, reason = Status.FAIL, str(exc)
    except Skipped as exc:
        status, reason = Status.SKIP, str(exc)
    except Exception as exc:  # the check met something it could not judge: a failure too
        where = traceback.extract_tb(exc.__traceback__)[-1]
        status = Status.FAIL
        reason = f"unexpected {type(exc).__name__}: {exc} (at {where.name}:{where.lineno})"
    seconds = round(time.monotonic() - started, 3)
    return Result(check.id, check.section, check.rule, status, reason, seconds)


async def run_checks(context: Context, report: Report, on_result: Callable[[Result], None]) -> None:
    """Run every selected check in order, reporting each as soon as it is decided."""
    import conformance.checks  # noqa: F401  (registers the checks)

    for check in CHECKS:
        if context.options.selects(check):
            result = await run_check(check, context)
            report.add(result)
            on_result(result)
    cleanup = context.state.get("cleanup", [])
    for undo in reversed(cleanup):
        # Best effort: leaving the instance as found is a courtesy, not a check.
        with contextlib.suppress(Failed):
            await undo()
