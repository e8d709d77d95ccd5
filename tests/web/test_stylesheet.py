"""The one stylesheet: small, and every text colour meets WCAG AA contrast in both themes."""

from __future__ import annotations

import re

import pytest

from fedgroups.web.templating import TEMPLATES_DIR

CSS = (TEMPLATES_DIR / "static" / "site.css").read_text()
# (text, background) pairs the pages actually use.
PAIRS = [
    ("fg", "bg"), ("fg", "card"), ("muted", "bg"), ("muted", "card"), ("accent", "bg"),
    ("accent", "card"), ("on-accent", "accent"), ("error", "bg"), ("error", "card"),
    ("danger", "bg"), ("fg", "warn-bg"),
]  # fmt: skip


def _themes() -> dict[str, dict[str, str]]:
    blocks = re.findall(r":root\s*\{([^}]*)\}", CSS)
    assert len(blocks) == 2, "a light and a dark :root"
    return {
        name: dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))
        for name, block in zip(("light", "dark"), blocks, strict=True)
    }


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_meets_wcag_aa(theme: str, text: str, background: str) -> None:
    colours = _themes()[theme]
    assert contrast(colours[text], colours[background]) >= 4.5


def test_one_small_stylesheet() -> None:
    assert len(CSS.encode()) < 12_000
    assert [path.name for path in (TEMPLATES_DIR / "static").glob("*.css")] == ["site.css"]
