"""The table `make bench` prints: one row per figure, a cell per database, target and verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BACKEND_TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class Cell:
    """One figure on one database: what to print, whether it meets its target, the ratio."""

    text: str
    met: bool | None = None  # None: no target for this cell
    ratio: float | None = None  # figure / raw limit measured in the same run
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    label: str
    target: str
    cells: dict[str, Cell] = field(default_factory=dict)


def _verdict(row: Row, smoke: bool) -> str:
    verdicts = {name: cell.met for name, cell in row.cells.items() if cell.met is not None}
    if not verdicts:
        return "-"
    if smoke:
        return "(smoke)"
    missed = [BACKEND_TITLES.get(name, name) for name, met in verdicts.items() if not met]
    return "yes" if not missed else "no (" + ", ".join(missed) + ")"


def _ratios(row: Row, backends: list[str]) -> str:
    ratios = [row.cells[name].ratio if name in row.cells else None for name in backends]
    if all(ratio is None for ratio in ratios):
        return "-"
    return " / ".join("-" if ratio is None else f"{ratio:.2f}" for ratio in ratios)


def render(rows: list[Row], backends: list[str], *, smoke: bool) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs/benchmarks.md)."""
    header = ["figure", *(BACKEND_TITLES[name] for name in backends), "target", "met?"]
    header.append("ratio to raw limit")
    lines = [header]
    for row in rows:
        cells = [row.cells[name].text if name in row.cells else "not run" for name in backends]
        lines.append([row.label, *cells, row.target, _verdict(row, smoke), _ratios(row, backends)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        out.append("| " + " | ".join(text.ljust(w) for text, w in zip(line, widths, strict=True)))
        out[-1] += " |"
        if number == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [
        {
            "figure": row.label,
            "target": row.target,
            "cells": {
                name: {"text": c.text, "met": c.met, "ratio": c.ratio, **c.data}
                for name, c in row.cells.items()
            },
        }
        for row in rows
    ]
