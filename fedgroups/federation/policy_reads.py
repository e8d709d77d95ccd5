"""Shared reads of the domain policy: inbox requests that ask at the same moment share one query.

Every inbox request needs the blocks, allows, mode and health bearing on its signer's and
actor's domains before it verifies anything. Requests that are waiting together get one read
of the union of their domains, made after all of them asked, so each still sees every
decision committed before it asked (a block applies from the next request on, as before).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fedgroups.models.domain import Policy, policy_for

_Asked = tuple[frozenset[str], frozenset[str], "asyncio.Future[Policy]"]


class PolicyReads:
    """Answers `policy_for` for the requests of one instance, one query per group of them."""

    def __init__(self) -> None:
        self._waiting: list[_Asked] = []
        self._reading: asyncio.Task[None] | None = None
        self.reads = 0  # queries made

    async def policy_for(self, domains: Iterable[str], *, health_of: Iterable[str]) -> Policy:
        """The decisions on `domains` and the health of `health_of` (the policy may say more)."""
        future: asyncio.Future[Policy] = asyncio.get_running_loop().create_future()
        self._waiting.append((frozenset(domains), frozenset(health_of), future))
        if self._reading is None:
            # The task copies this request's context, hence its database.
            self._reading = asyncio.create_task(self._read())
        return await future

    async def _read(self) -> None:
        asked: list[_Asked] = []
        try:
            await asyncio.sleep(0)  # requests asking in this turn of the loop share the read
            while self._waiting:
                asked, self._waiting = self._waiting, []
                await self._answer(asked)
                asked = []
        except BaseException as exc:  # cancelled: no request may wait for ever
            for _domains, _health, future in [*asked, *self._waiting]:
                if not future.done():
                    future.set_exception(exc)
            self._waiting = []
            raise
        finally:
            self._reading = None

    async def _answer(self, asked: list[_Asked]) -> None:
        domains = frozenset[str]().union(*(ask[0] for ask in asked))
        health = frozenset[str]().union(*(ask[1] for ask in asked))
        self.reads += 1
        try:
            policy = await policy_for(domains, health_of=health)
        except Exception as exc:  # handed to each request waiting on this read, as its own
            for _domains, _health, future in asked:
                if not future.done():
                    future.set_exception(exc)
            return
        for _domains, _health, future in asked:
            if not future.done():
                future.set_result(policy)
