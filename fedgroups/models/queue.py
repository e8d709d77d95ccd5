"""Fields shared by every durable job table (inbox items, deliveries), so one claim loop serves all.

A row is a job: `run_at` says when it is due, `leased_until` says how long the worker that
claimed it may hold it before another worker takes it over (a dead worker loses nothing).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"  # due at run_at, or waiting for a retry
    RUNNING = "running"  # claimed; leased_until bounds the claim
    DONE = "done"
    IGNORED = "ignored"  # understood and deliberately not acted upon
    FAILED = "failed"  # gave up after the retry schedule; last_error says why
    PAUSED = "paused"  # the target domain is unavailable; resumes when it is heard from
    HELD = "held"  # from a server an admin has not said yes to yet (cautious mode)


class QueueFields:
    """Mixin for tortoise models that are claimed by workers."""

    state = fields.CharEnumField(JobState, default=JobState.QUEUED, max_length=16)
    run_at = fields.DatetimeField(db_index=True)
    leased_until = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
