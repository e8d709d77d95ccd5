"""Watching the statements a test's code sends to the database, on either backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.sqlite.client import SqliteClient

Seen = Callable[[str, Any], None]  # the statement and what the backend returned for it


def watch_statements(monkeypatch: pytest.MonkeyPatch, seen: Seen) -> None:
    """Call `seen` after every `execute_query` of either backend, for the test's duration."""
    for client in (SqliteClient, AsyncpgDBClient):
        execute_query = client.execute_query

        async def watched(
            self: Any, query: str, values: Any = None, *, _run: Any = execute_query
        ) -> Any:
            result = await _run(self, query, values)
            seen(query, result)
            return result

        monkeypatch.setattr(client, "execute_query", watched)
