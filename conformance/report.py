"""Check outcomes: what each check found, printed for people and written as JSON for machines."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


class Failed(Exception):
    """Raised inside a check: the instance broke the rule; the message says how."""


class Skipped(Exception):
    """Raised inside a check: the rule could not be judged (a prerequisite is missing)."""


@dataclass(frozen=True)
class Result:
    """One check's verdict, with the rule it enforces and the reason for the verdict."""

    id: str
    section: str
    rule: str
    status: Status
    reason: str
    seconds: float


@dataclass
class Report:
    """Every result of one run against one instance and group."""

    target: str
    group: str
    peer: str
    started_at: float = field(default_factory=time.time)
    results: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.results.append(result)

    def counts(self) -> dict[str, int]:
        return {status.value: self.count(status) for status in Status}

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def ok(self) -> bool:
        return self.count(Status.FAIL) == 0

    def by_id(self, check_id: str) -> Result:
        for result in self.results:
            if result.id == check_id:
                return result
        raise KeyError(check_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "group": self.group,
            "peer": self.peer,
            "started_at": self.started_at,
            "ok": self.ok,
            "summary": self.counts(),
            "results": [
                {**asdict(result), "status": result.status.value} for result in self.results
            ],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def print_result(result: Result, stream: TextIO) -> None:
    """One line per check, then the rule it enforces, indented, so failures read top-down."""
    stream.write(f"{result.status.value}  {result.id}: {result.reason}\n")
    stream.write(f"      rule: {result.rule}\n")
    stream.flush()


def print_summary(report: Report, stream: TextIO) -> None:
    counts = report.counts()
    verdict = "conformant" if report.ok else "NOT conformant"
    stream.write(
        f"\n{report.target} group {report.group!r}: {verdict} "
        f"({counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped)\n"
    )
